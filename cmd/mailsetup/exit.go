package main

import (
	"errors"
	"fmt"

	"github.com/mailsetup/mailsetup/probe"
)

// Exit codes: a script may rely on these. They are listed by
// `mailsetup help exit-codes` and in the README; keep all three in step.
const (
	exitOK            = 0
	exitFailure       = 1
	exitUsage         = 2 // bad flags or arguments, or the user cancelled
	exitNothingFound  = 3 // no working settings were found
	exitLoginRejected = 4 // settings found, but the server rejected the login
	exitInsecureOnly  = 5 // only insecure servers work and insecure use was not allowed
	exitBatchPartial  = 6 // a batch in which some users failed
	exitUnconfirmed   = 7 // settings found but not proven (login skipped for want of consent, or no answer in time)
)

const exitCodesHelp = `Exit codes of mailsetup:

  0  success
  1  error (a file could not be read or written, a check failed, ...)
  2  usage error (bad flags or arguments), or the user cancelled (Ctrl-C)
  3  nothing working was found for the address, or time ran out first
  4  settings were found, but the server rejected the login
  5  only insecure servers work, and insecure use was not allowed by flag
  6  a batch in which some users failed (the others were written)
  7  settings were found but not proven: the login was skipped for want of
     your consent (--trust-host), or no answer came in the time left
`

// exitError carries the exit code a failure should end the process with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExitCode wraps err so that Main ends the process with code.
func withExitCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// errSilent ends the process with a code when the command already printed
// everything the user needs (e.g. lint's findings, a JSON report).
func silentExit(code int) error { return &exitError{code: code, err: errSilentMarker} }

var errSilentMarker = errors.New("")

// usageError is a mistake in flags or arguments.
func usageError(format string, args ...any) error {
	for i, a := range args {
		if err, ok := a.(error); ok && isFlagValueError(err) {
			args[i] = flagWords(err) // every command's flag errors, batch's own handler too
		}
	}
	return withExitCode(exitUsage, fmt.Errorf(format, args...))
}

// exitCodeOf maps an error to the process exit code.
func exitCodeOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

// statusExit is the one mapping from a probe's outcome to the exit code;
// the status word is the Status itself (batch's summary uses the same).
func statusExit(s probe.Status) int {
	switch s {
	case probe.StatusOK:
		return exitOK
	case probe.StatusNothingFound, probe.StatusTimedOut:
		return exitNothingFound
	case probe.StatusLoginRejected:
		return exitLoginRejected
	case probe.StatusInsecureOnly:
		return exitInsecureOnly
	case probe.StatusUnconfirmed:
		return exitUnconfirmed
	case probe.StatusCancelled:
		return exitUsage
	}
	return exitFailure
}
