package main

import (
	"errors"
	"flag"
)

func notBuilt(fs *flag.FlagSet) func(e *env, args []string) error {
	return func(e *env, args []string) error { return errors.New("not built yet") }
}

var vectorsTrainCommand = command{summary: "not built yet", setup: notBuilt}
var vectorsNeighborsCommand = command{summary: "not built yet", setup: notBuilt}
var vectorsAnalogyCommand = command{summary: "not built yet", setup: notBuilt}
