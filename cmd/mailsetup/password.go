package main

import (
	"errors"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/mailsetup/mailsetup/internal/prompt"
)

// passwordFromTerminal is --password-stdin when standard input is a
// terminal: the password is asked for with a masked prompt instead of
// being read as typed, echoed, line. asked is false when standard input is
// no terminal (a pipe or a file: read it as usual). Without a terminal to
// draw the prompt on, it refuses rather than echo.
func passwordFromTerminal(in io.Reader, errOut io.Writer) (password []byte, asked bool, err error) {
	inFile, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(inFile.Fd())) {
		return nil, false, nil
	}
	outFile, ok := errOut.(*os.File)
	if !ok || !term.IsTerminal(int(outFile.Fd())) {
		return nil, true, usageError("--password-stdin reads the password from a pipe or file, e.g. --password-stdin < password.txt; standard input is a terminal, and standard error is not one to ask on")
	}
	pw, err := prompt.NewSurvey(inFile, outFile, outFile).Password("Password (not shown as you type)")
	switch {
	case errors.Is(err, prompt.ErrCancelled):
		return nil, true, errCancelled
	case err != nil:
		return nil, true, err
	case len(pw) == 0:
		return nil, true, usageError("no password was typed; type it at the prompt, or leave out --password-stdin to probe without logging in")
	case len(pw) > maxPasswordLen:
		return nil, true, usageError("the password is longer than %d bytes", maxPasswordLen)
	}
	return pw, true, nil
}
