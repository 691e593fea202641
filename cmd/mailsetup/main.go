// Command mailsetup finds a mail provider's IMAP, POP3 and SMTP settings,
// proves they work and writes files that mail clients import.
package main

import (
	"os"

	"github.com/mailsetup/mailsetup/internal/iostreams"
)

func main() {
	os.Exit(Main(iostreams.System(), os.Args[1:]))
}
