// Command classify trains, evaluates and serves neural text classifiers.
//
//	classify <command> [flags]
//
// Run "classify help" for the list of commands and "classify help COMMAND"
// for one command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// env is what a command may touch of the outside world, so that tests can
// run commands in process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// terminal is true when progress bars may be drawn on stderr: stdout
	// and stderr are both interactive terminals (see terminalOf).
	terminal bool
	// width is stderr's width in columns (0: unknown, no limit).
	width int
	// ctx, when not nil, is the context long commands start from (the
	// signals of SIGINT and SIGTERM are added to it): a test cancels it to
	// stand for a signal.
	ctx context.Context
}

// command is one subcommand. setup defines its flags on fs and returns the
// function that does the work once the flags are parsed, with the remaining
// arguments; help calls setup alone to list the flags.
type command struct {
	summary string
	// usage is what follows "classify NAME", e.g. "--data PATH [--vectors PATH]".
	usage   string
	example string
	setup   func(fs *flag.FlagSet) func(e *env, args []string) error
}

// commands lists every subcommand by name; "vectors train" and its siblings
// are two words.
func commands() map[string]command {
	return map[string]command{
		"train":             trainCommand,
		"eval":              evalCommand,
		"predict":           predictCommand,
		"tokenize":          tokenizeCommand,
		"summary":           summaryCommand,
		"inspect":           inspectCommand,
		"serve":             serveCommand,
		"vectors train":     vectorsTrainCommand,
		"vectors neighbors": vectorsNeighborsCommand,
		"vectors analogy":   vectorsAnalogyCommand,
		"vectors eval":      vectorsEvalCommand,
		"version":           versionCommand,
		"bench":             benchCommand,
	}
}

// allCommands is commands with "completion", whose scripts are made from
// the others' flags.
func allCommands() map[string]command {
	cmds := commands()
	cmds["completion"] = completionCommandFor(cmds)
	return cmds
}

// usageError marks an error in how the command was called: exit status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() {
	terminal, width := terminalOf(os.Stdout, os.Stderr)
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, terminal: terminal, width: width}
	os.Exit(run(e, os.Args[1:]))
}

// run executes the command line args and returns the exit status.
func run(e *env, args []string) int {
	cmds := allCommands()
	if len(args) == 0 {
		printOverview(e.stderr, cmds)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		printOverview(e.stdout, cmds)
		return 0
	}
	if args[0] == "help" {
		if len(args) == 1 {
			printOverview(e.stdout, cmds)
			return 0
		}
		name, _ := commandName(args[1:])
		if name == "vectors" {
			printGroup(e.stdout, cmds, "vectors ")
			return 0
		}
		c, ok := cmds[name]
		if !ok {
			fmt.Fprintf(e.stderr, "classify: unknown command %q%s\n", name, didYouMean(name, commandWords(cmds)))
			return 2
		}
		printHelp(e.stdout, name, c)
		return 0
	}
	name, rest := commandName(args)
	if name == "vectors" {
		fmt.Fprintln(e.stderr, "classify vectors: a subcommand is required")
		printGroup(e.stderr, cmds, "vectors ")
		return 2
	}
	c, ok := cmds[name]
	if !ok {
		fmt.Fprintf(e.stderr, "classify: unknown command %q%s (see classify help)\n", name, didYouMean(name, commandWords(cmds)))
		return 2
	}
	fs := flag.NewFlagSet("classify "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	work := c.setup(fs)
	positional, err := parseInterspersed(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(e.stdout, name, c)
			return 0
		}
		fmt.Fprintf(e.stderr, "classify %s: %v%s\nsee: classify help %s\n", name, err, flagSuggestion(err, fs), name)
		return 2
	}
	if err := work(e, positional); err != nil {
		fmt.Fprintf(e.stderr, "classify %s: %v\n", name, err)
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(e.stderr, "see: classify help %s\n", name)
			return 2
		}
		return 1
	}
	return 0
}

// parseInterspersed parses args with fs, flags and positional arguments
// in any order, as GNU getopt and pflag do: "predict --checkpoint ck
// TEXT --json" sets --json. The standard flag package stops at the first
// positional argument, so parsing resumes after each one. "--" ends the
// flags: what follows is positional even when it starts with "-".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// commandWords are the words that may follow "classify": the commands
// (the first word of "vectors train" and its siblings) and "help".
func commandWords(cmds map[string]command) []string {
	words := []string{"help"}
	for n := range cmds {
		words = append(words, n)
		if first, _, ok := strings.Cut(n, " "); ok {
			words = append(words, first)
		}
	}
	return words
}

// didYouMean suggests the candidate closest to word, within two edits or
// sharing its first four letters, as ", did you mean "x"?" (cobra and
// git say the same); "" when none is close.
func didYouMean(word string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		d := editDistance(word, c)
		if len(word) >= 4 && strings.HasPrefix(c, word[:4]) {
			d = min(d, 1)
		}
		if d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	if best == "" || best == word {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// flagSuggestion is didYouMean for an undefined flag named in err.
func flagSuggestion(err error, fs *flag.FlagSet) string {
	_, bad, ok := strings.Cut(err.Error(), "flag provided but not defined: ")
	if !ok {
		return ""
	}
	bad = strings.TrimLeft(bad, "-")
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	s := didYouMean(bad, names)
	if s == "" {
		return ""
	}
	return strings.Replace(s, `"`, `"--`, 1)
}

// editDistance is the Levenshtein distance between a and b in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// commandName splits args into the command's name, one word or two for
// "vectors", and the rest.
func commandName(args []string) (string, []string) {
	if args[0] == "vectors" && len(args) > 1 {
		return "vectors " + args[1], args[2:]
	}
	return args[0], args[1:]
}

func printOverview(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "classify trains, evaluates and serves neural text classifiers.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "usage: classify <command> [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run \"classify help COMMAND\" for a command's flags.")
}

// printGroup lists the commands whose names start with prefix.
func printGroup(w io.Writer, cmds map[string]command, prefix string) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintf(w, "\nRun \"classify help %sSUBCOMMAND\" for a subcommand's flags.\n", prefix)
}

// printHelp prints a command's summary, usage, every flag with its default,
// and an example.
func printHelp(w io.Writer, name string, c command) {
	fmt.Fprintf(w, "%s\n\nusage: classify %s %s\n", c.summary, name, c.usage)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c.setup(fs)
	fs.SetOutput(w)
	fmt.Fprintln(w, "\nflags:")
	fs.PrintDefaults()
	if c.example != "" {
		fmt.Fprintf(w, "\nexample:\n  %s\n", c.example)
	}
}
