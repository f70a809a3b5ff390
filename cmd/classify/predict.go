package main

import (
	"errors"
	"flag"
)

// predictCommand is not built yet.
var predictCommand = command{
	summary: "not built yet",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		return func(e *env, args []string) error { return errors.New("not built yet") }
	},
}
