package main

import (
	"errors"
	"fmt"
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
	fmt.Fprint(outFile, "Password (not shown as you type): ")
	pw, err := readSecretLine(inFile)
	fmt.Fprint(outFile, "\r\n")
	switch {
	case errors.Is(err, prompt.ErrCancelled):
		return nil, true, errCancelled
	case err != nil:
		return nil, true, fmt.Errorf("reading the password from the terminal: %s", peopleWords(err))
	case len(pw) == 0:
		return nil, true, usageError("no password was typed; type it at the prompt, or leave out --password-stdin to probe without logging in")
	case len(pw) > maxPasswordLen:
		return nil, true, usageError("the password is longer than %d bytes", maxPasswordLen)
	}
	return pw, true, nil
}

// readSecretLine reads one line from a terminal in raw mode, showing
// nothing: Enter ends it, Backspace takes back a character, Ctrl-U the
// whole line, Ctrl-C and Ctrl-D cancel. Raw mode also keeps Ctrl-C from
// becoming a signal halfway through a password.
func readSecretLine(in *os.File) ([]byte, error) {
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, err
	}
	defer term.Restore(int(in.Fd()), state)
	var line []byte
	var b [1]byte
	for {
		if _, err := in.Read(b[:]); err != nil {
			return nil, err
		}
		switch c := b[0]; c {
		case '\r', '\n':
			return line, nil
		case 0x03, 0x04: // Ctrl-C, Ctrl-D
			return nil, prompt.ErrCancelled
		case 0x7f, 0x08: // Backspace: take back a whole UTF-8 character
			for len(line) > 0 {
				last := line[len(line)-1]
				line = line[:len(line)-1]
				if last < 0x80 || last >= 0xc0 {
					break
				}
			}
		case 0x15: // Ctrl-U
			line = line[:0]
		default:
			if len(line) <= maxPasswordLen {
				line = append(line, c)
			}
		}
	}
}
