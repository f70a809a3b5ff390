package main

import (
	"errors"
	"flag"
)

// benchCommand is not built yet.
var benchCommand = command{
	summary: "not built yet",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		return func(e *env, args []string) error { return errors.New("not built yet") }
	},
}
