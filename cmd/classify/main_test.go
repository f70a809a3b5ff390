package main

import (
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
