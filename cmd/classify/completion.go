package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// completionCommandFor is the completion command for cmds.
func completionCommandFor(cmds map[string]command) command {
	return command{
		summary: "print a shell completion script for bash or zsh, made from every command's flags",
		usage:   "bash|zsh",
		example: `source <(classify completion bash)     # bash, or in ~/.bashrc
  classify completion zsh > "${fpath[1]}/_classify"   # zsh`,
		setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
			return func(e *env, args []string) error {
				if len(args) != 1 {
					return usagef("want one shell, bash or zsh")
				}
				switch args[0] {
				case "bash":
					return writeBashCompletion(e.stdout, cmds)
				case "zsh":
					return writeZshCompletion(e.stdout, cmds)
				}
				return usagef("no completion for %q: want bash or zsh", args[0])
			}
		},
	}
}

// completionFlag is a flag as the completion scripts need it.
type completionFlag struct {
	name, usage string
	takesValue  bool
}

// commandFlags lists the flags that c's setup defines, sorted.
func commandFlags(c command) []completionFlag {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	c.setup(fs)
	var out []completionFlag
	fs.VisitAll(func(f *flag.Flag) {
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		_, usage := flag.UnquoteUsage(f)
		out = append(out, completionFlag{name: f.Name, usage: usage, takesValue: !ok || !b.IsBoolFlag()})
	})
	return out
}

func sortedNames(cmds map[string]command) []string {
	var names []string
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// topWords are the words completed after "classify": commands, with
// "vectors" once for its subcommands.
func topWords(cmds map[string]command) []string {
	seen := map[string]bool{"help": true}
	words := []string{"help"}
	for _, n := range sortedNames(cmds) {
		w, _, _ := strings.Cut(n, " ")
		if !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	sort.Strings(words)
	return words
}

func writeBashCompletion(w io.Writer, cmds map[string]command) error {
	var b strings.Builder
	b.WriteString(`# bash completion for classify, made by "classify completion bash"
_classify() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd=${COMP_WORDS[1]} first=2 flags="" valued=""
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "` + strings.Join(topWords(cmds), " ") + `" -- "$cur"))
        return
    fi
    if [[ $cmd == help ]]; then
        COMPREPLY=($(compgen -W "` + strings.Join(topWords(cmds), " ") + `" -- "$cur"))
        return
    fi
    if [[ $cmd == vectors ]]; then
        if [[ $COMP_CWORD -eq 2 ]]; then
            COMPREPLY=($(compgen -W "`)
	var subs []string
	for _, n := range sortedNames(cmds) {
		if s, ok := strings.CutPrefix(n, "vectors "); ok {
			subs = append(subs, s)
		}
	}
	b.WriteString(strings.Join(subs, " ") + `" -- "$cur"))
            return
        fi
        cmd="vectors ${COMP_WORDS[2]}"
    fi
    case $cmd in
`)
	for _, n := range sortedNames(cmds) {
		var all, valued []string
		for _, f := range commandFlags(cmds[n]) {
			all = append(all, "--"+f.name)
			if f.takesValue {
				valued = append(valued, "--"+f.name)
			}
		}
		fmt.Fprintf(&b, "    %q) flags=%q valued=%q ;;\n", n, strings.Join(all, " "), " "+strings.Join(valued, " ")+" ")
	}
	b.WriteString(`    esac
    if [[ $cmd == completion ]]; then
        COMPREPLY=($(compgen -W "bash zsh" -- "$cur"))
        return
    fi
    if [[ $valued == *" $prev "* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _classify classify
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// zshQuote makes s safe inside a single-quoted _arguments spec's
// description.
func zshQuote(s string) string {
	s = strings.NewReplacer("'", "'\\''", "[", "(", "]", ")", ":", " -", "\n", " ", "`", "").Replace(s)
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

func writeZshCompletion(w io.Writer, cmds map[string]command) error {
	var b strings.Builder
	b.WriteString(`#compdef classify
# zsh completion for classify, made by "classify completion zsh"
_classify() {
    local -a cmds
    cmds=(
`)
	for _, word := range topWords(cmds) {
		summary := "show a command's flags"
		if c, ok := cmds[word]; ok {
			summary = c.summary
		} else if word == "vectors" {
			summary = "train and query word vectors"
		}
		fmt.Fprintf(&b, "        '%s:%s'\n", word, zshQuote(summary))
	}
	b.WriteString(`    )
    if (( CURRENT == 2 )); then
        _describe command cmds
        return
    fi
    local cmd=$words[2]
    shift words; (( CURRENT-- ))
    if [[ $cmd == vectors ]]; then
        if (( CURRENT == 2 )); then
            compadd`)
	for _, n := range sortedNames(cmds) {
		if s, ok := strings.CutPrefix(n, "vectors "); ok {
			b.WriteString(" " + s)
		}
	}
	b.WriteString(`
            return
        fi
        cmd="vectors $words[2]"
        shift words; (( CURRENT-- ))
    fi
    case $cmd in
`)
	for _, n := range sortedNames(cmds) {
		fmt.Fprintf(&b, "    %q)\n        _arguments -s", n)
		for _, f := range commandFlags(cmds[n]) {
			spec := fmt.Sprintf("--%s[%s]", f.name, zshQuote(f.usage))
			if f.takesValue {
				spec += ":" + f.name + ":_files"
			}
			fmt.Fprintf(&b, " \\\n            '%s'", spec)
		}
		if n == "completion" {
			b.WriteString(" \\\n            '1:shell:(bash zsh)'")
		} else if n == "help" {
			b.WriteString(" \\\n            '1:command:'")
		} else {
			b.WriteString(" \\\n            '*:file:_files'")
		}
		b.WriteString(" ;;\n")
	}
	b.WriteString(`    help) _describe command cmds ;;
    esac
}
compdef _classify classify
`)
	_, err := io.WriteString(w, b.String())
	return err
}
