package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mailsetup/mailsetup/internal/iostreams"
)

// TestMain lets the test binary run as `mailsetup` inside the scripts of
// testdata/script, as a user would run it from a shell.
func TestMain(m *testing.M) {
	if os.Getenv(runAsMainEnv) == "1" {
		// A test runs this binary as mailsetup in a process of its own
		// (a pseudo-terminal's Ctrl-C signals a whole process).
		os.Exit(Main(iostreams.System(), os.Args[1:]))
	}
	testscript.Main(m, map[string]func(){
		"mailsetup": func() { os.Exit(Main(iostreams.System(), os.Args[1:])) },
	})
}

// runAsMainEnv makes the test binary run Main with its arguments.
const runAsMainEnv = "MAILSETUP_TEST_RUN_MAIN"

// TestScripts runs the end-to-end command-line scripts in testdata/script:
// no terminal, so every answer comes from a flag; the network is the
// in-process sandbox (--sandbox).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
