package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/probe"
)

type probeOptions struct {
	IO      *iostreams.IOStreams
	JSON    bool
	Network networkSetup
	// Input is the address or bare domain; empty with --sandbox means the
	// scenario's test address.
	Input string
	// SandboxAddress is the --sandbox scenario's address, "" without one.
	SandboxAddress string
}

func newCmdProbe(f *Factory, runF func(*probeOptions) error) *cobra.Command {
	opts := &probeOptions{IO: f.IO}
	var net *netFlags
	cmd := &cobra.Command{
		Use:   "probe ADDRESS|DOMAIN",
		Short: "Find a provider's mail servers, prove them and recommend settings",
		Long: `Find the IMAP, POP3 and SMTP servers for an address (or a bare domain) by
every method mail clients use at once (DNS SRV, autoconfig, the ISPDB, MX,
Autodiscover, guessing), prove each one (TLS, certificate, capabilities) and
recommend the best: IMAP whenever it works, implicit TLS over STARTTLS.

With a password (--password-stdin, --password-file or MAILSETUP_PASSWORD;
never a flag value) the login is tested too, one attempt at a time, at most
two refused attempts per direction. A password never goes over plaintext
or to an invalid certificate unless --allow-plaintext or --trust-cert says so.

Exit codes: 0 settings found, 3 nothing works, 4 the login was refused,
5 only insecure servers work. --json prints the report (docs/json-schema.md).`,
		Example: `  mailsetup probe alice@example.com
  mailsetup probe example.com --json
  mailsetup probe alice@example.com --password-stdin < password.txt
  mailsetup probe --sandbox demo`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = f.JSON
			opts.Network = net.setup
			if len(args) == 1 {
				opts.Input = args[0]
			}
			if net.sandbox != "" {
				sc, err := net.scenario()
				if err != nil {
					return err
				}
				opts.SandboxAddress = sc.Address
			}
			if opts.Input == "" && opts.SandboxAddress == "" {
				return usageError("give the address to probe, e.g. 'mailsetup probe alice@example.com' (or --sandbox SCENARIO)")
			}
			if runF != nil {
				return runF(opts)
			}
			return runProbe(cmd.Context(), opts)
		},
	}
	net = addNetFlags(cmd)
	return cmd
}

func runProbe(ctx context.Context, opts *probeOptions) error {
	popts, release, err := opts.Network(ctx)
	if err != nil {
		return err
	}
	defer release()
	input := opts.Input
	if input == "" {
		input = opts.SandboxAddress
	}
	if opts.IO.IsStderrTTY() {
		popts.Progress = progressPrinter(opts.IO.ErrOut)
	}
	rep, err := probe.Run(ctx, popts, input)
	if err != nil {
		if errors.Is(err, probe.ErrBadInput) {
			return withExitCode(exitUsage, err)
		}
		return err
	}
	if err := printReport(opts.IO, opts.JSON, rep); err != nil {
		return err
	}
	return probeExit(rep)
}

// printReport writes the report as JSON or for people.
func printReport(io *iostreams.IOStreams, asJSON bool, rep *probe.Report) error {
	if asJSON {
		return writeJSON(io.Out, rep)
	}
	return rep.WriteText(io.Out)
}

// probeExit maps a probe's outcome to the documented exit code. The report
// has said everything, so the error carries no text of its own.
func probeExit(rep *probe.Report) error {
	switch rep.Status {
	case probe.StatusNothingFound:
		return silentExit(exitNothingFound)
	case probe.StatusLoginRejected:
		return silentExit(exitLoginRejected)
	case probe.StatusInsecureOnly:
		return silentExit(exitInsecureOnly)
	}
	return nil
}

// progressPrinter shows a probe's steps as they happen, one line each, on a
// terminal's standard error.
func progressPrinter(w io.Writer) func(probe.Event) {
	return func(e probe.Event) {
		fmt.Fprintf(w, "  … %s\n", e.Text)
	}
}
