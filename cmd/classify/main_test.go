package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestHelp checks that every command explains itself: a summary, a usage
// line, every flag with its default, and an example.
func TestHelp(t *testing.T) {
	for name := range commands() {
		status, stdout, stderr := runCommand("", append([]string{"help"}, strings.Fields(name)...)...)
		if status != 0 {
			t.Errorf("help %s: exit %d: %s", name, status, stderr)
			continue
		}
		for _, want := range []string{"usage: classify " + name, "flags:", "example:"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("help %s lacks %q:\n%s", name, want, stdout)
			}
		}
		if strings.Contains(stdout, "not built yet") {
			t.Errorf("help %s: the command is a stub", name)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "usage: classify <command>"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"vectors"}, "a subcommand is required"},
		{[]string{"train", "--no-such-flag"}, "flag provided but not defined"},
		{[]string{"predict"}, "--checkpoint is required"},
		{[]string{"train", "--data", "x.tsv", "--hidden", "0"}, "--hidden 0"},
		{[]string{"train", "--data", "x.tsv", "--max-len", "0"}, "--max-len 0"},
		{[]string{"train", "--data", "x.tsv", "--early-stopping", "2", "--val-split", "0"}, "--val-split"},
	}
	for _, c := range cases {
		status, _, stderr := runCommand("", c.args...)
		if status != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("classify %v: exit %d, stderr %q; want exit 2 and %q", c.args, status, stderr, c.want)
		}
	}
	if status, stdout, _ := runCommand("", "-h"); status != 0 || !strings.Contains(stdout, "usage: classify") {
		t.Errorf("classify -h: exit %d, want 0 with the overview:\n%s", status, stdout)
	}
	if status, stdout, _ := runCommand("", "train", "-h"); status != 0 || !strings.Contains(stdout, "--val-split") && !strings.Contains(stdout, "-val-split") {
		t.Errorf("train -h: exit %d, want 0 with the flags listed:\n%s", status, stdout)
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "")
	ckpt := fs.String("checkpoint", "", "")
	k := fs.Int("k", 1, "")
	cases := []struct {
		args     []string
		wantPos  []string
		wantJSON bool
		wantCk   string
		wantK    int
	}{
		{[]string{"--checkpoint", "ck", "a film", "--json"}, []string{"a film"}, true, "ck", 1},
		{[]string{"a film", "--checkpoint=ck", "b", "-k", "3"}, []string{"a film", "b"}, false, "ck", 3},
		{[]string{"--json", "--", "--json", "-k"}, []string{"--json", "-k"}, true, "", 1},
		{[]string{"x", "-", "y"}, []string{"x", "-", "y"}, false, "", 1},
		{nil, nil, false, "", 1},
	}
	for _, c := range cases {
		*asJSON, *ckpt, *k = false, "", 1
		pos, err := parseInterspersed(fs, c.args)
		if err != nil || !reflect.DeepEqual(pos, c.wantPos) || *asJSON != c.wantJSON || *ckpt != c.wantCk || *k != c.wantK {
			t.Errorf("parseInterspersed(%q) = %q, %v with json %v, checkpoint %q, k %d; want %q, json %v, checkpoint %q, k %d",
				c.args, pos, err, *asJSON, *ckpt, *k, c.wantPos, c.wantJSON, c.wantCk, c.wantK)
		}
	}
	// Through a command: the flag after a text is a flag, not a text.
	status, stdout, stderr := runCommand("", "version", "--help")
	if status != 0 || !strings.Contains(stdout, "usage: classify version") {
		t.Errorf("classify version --help: exit %d, %q %q", status, stdout, stderr)
	}
}

func TestDidYouMean(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"trian"}, `unknown command "trian"; did you mean "train"?`},
		{[]string{"predcit"}, `did you mean "predict"?`},
		{[]string{"serv"}, `did you mean "serve"?`},
		{[]string{"vector"}, `did you mean "vectors"?`},
		{[]string{"help", "evall"}, `did you mean "eval"?`},
		{[]string{"predict", "--jsn"}, `did you mean "--json"?`},
	}
	for _, c := range cases {
		status, _, stderr := runCommand("", c.args...)
		if status != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("classify %q: exit %d, stderr %q; want 2 and %q", c.args, status, stderr, c.want)
		}
	}
	if _, _, stderr := runCommand("", "frobnicate"); strings.Contains(stderr, "did you mean") {
		t.Errorf("classify frobnicate suggests %q; nothing is close", stderr)
	}
}

func TestVersion(t *testing.T) {
	status, stdout, _ := runCommand("", "version")
	if status != 0 || !strings.HasPrefix(stdout, "classify ") || !strings.Contains(stdout, runtime.Version()) {
		t.Errorf("classify version: exit %d, %q; want the version and %s", status, stdout, runtime.Version())
	}
}

// TestCompletionBash loads the bash script into bash and asks it to
// complete command names, flags and flag values.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	status, script, stderr := runCommand("", "completion", "bash")
	if status != 0 {
		t.Fatalf("completion bash: exit %d: %s", status, stderr)
	}
	cases := []struct {
		words []string
		want  string
	}{
		{[]string{"classify", "tr"}, "train"},
		{[]string{"classify", "v"}, "vectors version"},
		{[]string{"classify", "vectors", "ne"}, "neighbors"},
		{[]string{"classify", "predict", "--js"}, "--json"},
		{[]string{"classify", "vectors", "analogy", "--vec"}, "--vectors"},
		{[]string{"classify", "serve", "--log"}, "--log-format"},
		{[]string{"classify", "completion", "z"}, "zsh"},
	}
	for _, c := range cases {
		var words []string
		for _, w := range c.words {
			words = append(words, strconv.Quote(w))
		}
		prog := script + fmt.Sprintf("\nCOMP_WORDS=(%s); COMP_CWORD=%d; _classify; echo \"${COMPREPLY[*]}\"\n", strings.Join(words, " "), len(c.words)-1)
		out, err := exec.Command(bash, "--norc", "-c", prog).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != c.want {
			t.Errorf("completing %q = %q (%v), want %q", c.words, got, err, c.want)
		}
	}
	if status, _, _ := runCommand("", "completion", "fish"); status != 2 {
		t.Errorf("completion fish: exit %d, want 2", status)
	}
}

func TestCompletionZsh(t *testing.T) {
	status, script, _ := runCommand("", "completion", "zsh")
	if status != 0 || !strings.HasPrefix(script, "#compdef classify") || !strings.Contains(script, "'--checkpoint[") {
		t.Fatalf("completion zsh: exit %d:\n%.300s", status, script)
	}
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh not installed: the script's syntax is not checked")
	}
	f := filepath.Join(t.TempDir(), "_classify")
	os.WriteFile(f, []byte(script), 0o644)
	if out, err := exec.Command(zsh, "-n", f).CombinedOutput(); err != nil {
		t.Errorf("zsh -n: %v: %s", err, out)
	}
}

// TestTerminalOf checks that files, pipes and /dev/null are not
// terminals (/dev/null is a character device, which a test of
// os.ModeCharDevice took for one).
func TestTerminalOf(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, f := range []*os.File{null, w} {
		if term, width := terminalOf(f, f); term || width != 80 {
			t.Errorf("terminalOf(%s) = %v, %d; want false, 80", f.Name(), term, width)
		}
	}
}
