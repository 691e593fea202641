package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/sandbox"
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
	// Username (--username) is the login name, when it is not the address.
	Username string
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
or to an invalid certificate unless --allow-plaintext or --trust-cert says so,
and only to a host in the address's own domain, one an authenticated source
named, or one you confirm with --trust-host (docs/password-rule.md).

Exit codes: 0 settings found, 3 nothing works, 4 the login was refused,
5 only insecure servers work, 7 settings found but not proven (a host you
did not confirm, or no answer in time). --json prints the report
(docs/json-schema.md).`,
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
				if err := sandboxCovers(sc, opts.Input); err != nil {
					return err
				}
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
	cmd.Flags().StringVar(&opts.Username, "username", "", "the login `NAME`, when it is not the address; tried first")
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
	status := newStatusLine(opts.IO, "")
	popts.Progress = status.progress()
	popts.Username = opts.Username
	rep, err := probe.Run(ctx, popts, input)
	status.clear()
	if err != nil {
		if errors.Is(err, probe.ErrBadInput) {
			return withExitCode(exitUsage, err)
		}
		return err
	}
	settleStatus(ctx, rep, popts.Timeout)
	if rep.Status == probe.StatusCancelled && !opts.JSON {
		// What was found in the moments before Ctrl-C is no report.
		fmt.Fprintf(opts.IO.ErrOut, "mailsetup: cancelled; the probe of %s stopped before it ended\n", input)
		return silentExit(exitUsage)
	}
	if err := printReport(opts.IO, opts.JSON, rep); err != nil {
		return err
	}
	return probeExit(rep, popts.Timeout)
}

// printReport writes the report as JSON or for people.
func printReport(io *iostreams.IOStreams, asJSON bool, rep *probe.Report) error {
	if asJSON {
		return writeJSON(io.Out, rep)
	}
	return writeReportText(safeWriter{io.Out}, rep)
}

// probeExit ends the process with the report's exit code. The report has
// said everything but that time ran out, which a report for people says
// last, on stderr.
func probeExit(rep *probe.Report, budget time.Duration) error {
	code := statusExit(rep.Status)
	if rep.Status == probe.StatusTimedOut {
		return withExitCode(code, errors.New(timedOutWords(budget)))
	}
	if code == exitOK {
		return nil
	}
	return silentExit(code)
}

// sandboxCovers checks that input (an address or a bare domain; "" takes
// the scenario's own address) lies in a domain the --sandbox scenario
// simulates: any other name only collects refusals from its DNS server.
func sandboxCovers(sc sandbox.Scenario, input string) error {
	if input == "" {
		return nil
	}
	domain := input
	if addr, err := autoconfig.ParseAddress(input); err == nil {
		domain = addr.Domain
	} else if d, err := autoconfig.ParseDomain(input); err == nil {
		domain = d.ASCII
	} else {
		return nil // probe.Run says what is wrong with it
	}
	for _, d := range sc.Domains {
		if strings.EqualFold(d, domain) {
			return nil
		}
	}
	home := sc.Address[strings.LastIndex(sc.Address, "@")+1:]
	return usageError("--sandbox %s simulates only %s: probe an address at %s, or leave out --sandbox",
		sc.Name, strings.Join(sc.Domains, " and "), home)
}

// statusLine is a running probe's live display on a terminal: one line on
// stderr, rewritten in place with a short summary, erased before the
// report prints, so that the scroll-back holds the report alone.
type statusLine struct {
	w io.Writer
	// prefix starts the line, e.g. "Looking up alice@example.com: ".
	prefix                  string
	lookups, found, checked int
	// seen holds the servers counted in found.
	seen   map[string]bool
	latest string
	shown  bool
}

// statusWidth keeps the line within the narrowest usual terminal: a line
// that wraps cannot be rewritten in place.
const statusWidth = 79

// newStatusLine returns the live display, or nil when stderr is not a
// terminal (then nothing is shown).
func newStatusLine(s *iostreams.IOStreams, prefix string) *statusLine {
	if !s.IsStderrTTY() {
		return nil
	}
	return &statusLine{w: s.ErrOut, prefix: prefix}
}

// progress is the probe.Options.Progress callback; nil without a terminal.
func (l *statusLine) progress() func(probe.Event) {
	if l == nil {
		return nil
	}
	return l.show
}

func (l *statusLine) show(e probe.Event) {
	switch e.Kind {
	case probe.EventLookup:
		l.lookups++
	case probe.EventFound:
		// Each source that names a server says so; count servers once.
		key := string(e.Server.Protocol) + " " + e.Server.Address() + " " + string(e.Server.Security)
		if l.seen == nil {
			l.seen = map[string]bool{}
		}
		if !l.seen[key] {
			l.seen[key] = true
			l.found++
		}
	case probe.EventChecked:
		l.checked++
		l.latest = "checked " + e.Server.Address()
	case probe.EventLogin:
		l.latest = "logging in to " + e.Server.Address()
	}
	if e.Kind == probe.EventFound && l.checked == 0 {
		l.latest = "checking " + e.Server.Address()
	}
	line := fmt.Sprintf("%s%s, %s found, %d checked", l.prefix, count(l.lookups, "lookup"), count(l.found, "server"), l.checked)
	if l.latest != "" {
		line += "; " + l.latest
	}
	line += "…"
	if r := []rune(line); len(r) > statusWidth {
		line = string(r[:statusWidth-1]) + "…"
	}
	fmt.Fprint(l.w, "\r"+line+"\x1b[K")
	l.shown = true
}

// count says "1 server", "2 servers".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// clear erases the line; the report follows on a clean line.
func (l *statusLine) clear() {
	if l == nil || !l.shown {
		return
	}
	fmt.Fprint(l.w, "\r\x1b[K")
	l.shown = false
}
