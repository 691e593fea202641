package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/account"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

// maxReportSize bounds a --from report; real ones are a few KiB.
const maxReportSize = 4 << 20

type profileOptions struct {
	IO   *iostreams.IOStreams
	JSON bool
	// Network probes when neither --settings nor --from is given.
	Network networkSetup
	// Password reads --password-stdin, --password-file or MAILSETUP_PASSWORD.
	Password func() ([]byte, error)
	// Probe is probe.Run; tests give several commands the same findings.
	Probe probeFunc

	Address string
	// SandboxAddress is the --sandbox scenario's address, "" without one.
	SandboxAddress string
	// Sandbox is the --sandbox scenario's name, which every command we
	// suggest must carry; "" without one.
	Sandbox      string
	Name         string
	Formats      string
	Out          string
	Force        bool
	SettingsFile string
	FromReport   string
	Protocol     string
	// answerFlags are the pipeline's other answers: --username,
	// --autodiscover-path, the signing flags and --include-password.
	answerFlags
}

func newCmdProfile(f *Factory, runF func(*profileOptions) error) *cobra.Command {
	opts := &profileOptions{IO: f.IO, Probe: probe.Run}
	var net *netFlags
	cmd := &cobra.Command{
		Use:   "profile ADDRESS --name NAME --out DIR",
		Short: "Write files that Thunderbird, Outlook, iPhone/Mac and Android import",
		Long: `Write ready-to-import account files for ADDRESS into DIR:

  thunderbird  isp/DOMAIN.xml for Thunderbird's isp/ folder, and user.js
               that creates the account in a NEW profile
  outlook      autodiscover.xml + autodiscover.reg (Outlook 2016-2024 and
               Microsoft 365, classic), outlook.prf (classic Outlook
               2010-2024); New Outlook and Outlook for Mac take neither
  apple        ADDRESS.mobileconfig for iPhone, iPad and Mac; signed with
               --sign-cert/--sign-key, with the password only with
               --include-password
  android      thunderbird-qr.png for Thunderbird for Android (no password),
               its text, and the settings for Gmail, Samsung Email, Outlook
  sheet        setup.html and setup.txt to type the settings by hand

The settings come from a fresh probe of the address (the probe's network
flags apply), from a saved 'mailsetup probe --json' report (--from), or
from any autoconfig file (--settings, also an Autodiscover response).
Nothing is overwritten without --force, and a failed run writes nothing.`,
		Example: `  mailsetup profile jane@example.com --name "Jane Doe" --out jane/
  mailsetup profile jane@example.com --name "Jane Doe" --format apple,sheet --out jane/ --from probe.json
  mailsetup profile jane@example.com --name "Jane Doe" --out jane/ --settings example.com.xml --protocol pop3
  mailsetup profile jane@example.com --name "Jane Doe" --format apple --out jane/ \
      --sign-cert cert.pem --sign-key key.pem --include-password --password-stdin < pw.txt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = f.JSON
			opts.Network = net.setup
			opts.Password = net.password
			if len(args) == 1 {
				opts.Address = args[0]
			}
			if net.sandbox != "" {
				if opts.SettingsFile != "" || opts.FromReport != "" {
					return usageError("--sandbox probes a simulated world; leave out --settings and --from")
				}
				sc, err := net.scenario()
				if err != nil {
					return err
				}
				if err := sandboxCovers(sc, opts.Address); err != nil {
					return err
				}
				opts.SandboxAddress = sc.Address
				opts.Sandbox = sc.Name
			}
			if runF != nil {
				return runF(opts)
			}
			return runProfile(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Name, "name", "", "the sender `NAME` that goes into every file, e.g. \"Jane Doe\"")
	fl.StringVar(&opts.Formats, "format", "all", "which `CLIENTS`: "+formatChoices)
	fl.StringVar(&opts.Out, "out", "", "`DIR`ectory to write into (created if missing)")
	fl.BoolVar(&opts.Force, "force", false, "overwrite files that exist")
	fl.StringVar(&opts.SettingsFile, "settings", "", "take the settings from this autoconfig `FILE` (config-v1.1 XML or Autodiscover response) instead of probing")
	fl.StringVar(&opts.FromReport, "from", "", "take the settings from a saved 'mailsetup probe --json' `REPORT` instead of probing")
	fl.StringVar(&opts.Protocol, "protocol", "", "incoming `PROTOCOL`: imap or pop3 (default: the recommendation, IMAP where it exists)")
	addAnswerFlags(cmd, &opts.answerFlags, answerFlagSet{username: true, includePassword: true})
	net = addNetFlags(cmd)
	return cmd
}

// profileResult is the --json output (docs/json-schema.md, "profile").
// formatChoices is the --format help of profile, wizard and batch, made
// from profiles.AllFormats so that a new client shows up in all three.
var formatChoices = func() string {
	names := make([]string, len(profiles.AllFormats))
	for i, f := range profiles.AllFormats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ") + " or all, comma-separated"
}()

type profileResult struct {
	SchemaVersion int                 `json:"schema_version"`
	Email         string              `json:"email"`
	Status        probe.Status        `json:"status"`
	Out           string              `json:"out"`
	Source        string              `json:"source"`
	Incoming      autoconfig.Server   `json:"incoming"`
	Outgoing      autoconfig.Server   `json:"outgoing"`
	Files         []profileResultFile `json:"files"`
	Warnings      []string            `json:"warnings"`
}

type profileResultFile struct {
	Format  profiles.Format `json:"format"`
	Path    string          `json:"path"`
	About   string          `json:"about"`
	Secret  bool            `json:"secret"`
	Clients string          `json:"clients"`
}

func runProfile(ctx context.Context, opts *profileOptions) error {
	if opts.Address == "" {
		opts.Address = opts.SandboxAddress
	}
	if opts.Address == "" && opts.FromReport == "" {
		return usageError("give the address, e.g. 'mailsetup profile jane@example.com --name \"Jane Doe\" --out jane/'")
	}
	// The address is parsed once, here; a bad one is a usage error before
	// anything is probed or read. With --from alone, the report names it.
	var addr autoconfig.Address
	if opts.Address != "" {
		var err error
		if addr, err = parseAddress(opts.Address); err != nil {
			return err
		}
	}
	if opts.Name == "" {
		return usageError("give the sender name with --name \"Jane Doe\": it goes into every file")
	}
	if opts.Out == "" {
		return usageError("give the directory to write into with --out DIR")
	}
	if opts.SettingsFile != "" && opts.FromReport != "" {
		return usageError("take the settings from one place: --settings or --from, not both")
	}
	formats, err := parseFormats(opts.Formats)
	if err != nil {
		return err
	}
	protocol, err := parseProtocol(opts.Protocol)
	if err != nil {
		return err
	}
	answers, err := opts.answers()
	if err != nil {
		return err
	}
	if opts.IncludePassword && !slices.Contains(formats, profiles.Apple) {
		return usageError("--include-password only applies to the Apple profile: add apple to --format")
	}
	answers.Name, answers.Protocol, answers.Formats = opts.Name, protocol, formats

	settings, source, rep, password, err := profileSettings(ctx, opts, &addr)
	if err != nil {
		if opts.JSON && rep != nil && (rep.Status == probe.StatusCancelled || rep.Status == probe.StatusTimedOut) {
			// A script reads why nothing was written from the status.
			res := profileResult{SchemaVersion: jsonSchemaVersion, Email: rep.Email, Status: rep.Status, Out: opts.Out,
				Source: "probe of " + opts.Address, Files: []profileResultFile{}, Warnings: []string{}}
			if werr := writeJSON(opts.IO.Out, res); werr != nil {
				return werr
			}
		}
		return err
	}
	status := probe.StatusOK
	if rep != nil {
		status = rep.Status
	}
	if opts.IncludePassword {
		answers.Password = password
	}
	var warnings []string
	if opts.SettingsFile != "" && !slices.Contains(settings.Provider.Domains, addr.Domain) {
		warnings = append(warnings, fmt.Sprintf("%s lists the domains %s, not %s: the files use its servers anyway",
			opts.SettingsFile, strings.Join(settings.Provider.Domains, ", "), addr.Domain))
	}
	r, err := account.Render(settings, addr, answers)
	if errors.Is(err, profiles.ErrUnsupported) {
		return fmt.Errorf("%w; nothing was written: leave that client out of --format to write the others", err)
	}
	if err != nil {
		return renderRefusal("the "+source, err)
	}
	if err := r.Write(opts.Out, opts.Force); err != nil {
		return writeError(opts.Out, err)
	}
	warnings = append(warnings, noticeList(r.Notices)...)
	if opts.JSON {
		res := profileResult{SchemaVersion: jsonSchemaVersion, Email: addr.String(), Status: status, Out: opts.Out, Source: source,
			Incoming: r.Account.In(), Outgoing: r.Account.Out(), Files: resultFiles(opts.Out, r.Files), Warnings: warnings}
		if res.Warnings == nil {
			res.Warnings = []string{}
		}
		if err := writeJSON(opts.IO.Out, res); err != nil {
			return err
		}
	} else {
		printProfileSummary(safeWriter{opts.IO.Out}, opts.Out, r.Account, source, r.Files)
		for _, w := range warnings {
			fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", w)
		}
	}
	if rep != nil && rep.Status == probe.StatusLoginRejected {
		return withExitCode(exitLoginRejected, errors.New("the files are written, but the server refused the login: check the password (or the username) before importing them"))
	}
	return nil
}

// errNoPasswordToInclude is the usage error of --include-password alone.
var errNoPasswordToInclude = usageError("--include-password needs the password: --password-stdin, --password-file FILE or MAILSETUP_PASSWORD")

// profileSettings finds the settings: from --settings, from --from, or by
// probing. It names where they came from and returns the probe report, if
// the settings came from one. With --include-password it returns the
// password too, read once: when probing, the probe's network setup has read
// it (standard input cannot be read twice), and the check that there is one
// comes before the probe.
// addr is the parsed address, filled in from a --from report that names it
// when none was given.
func profileSettings(ctx context.Context, opts *profileOptions, addr *autoconfig.Address) (s account.Settings, source string, rep *probe.Report, password []byte, err error) {
	if opts.SettingsFile != "" || opts.FromReport != "" {
		if opts.IncludePassword {
			if password, err = opts.Password(); err != nil {
				return s, "", nil, nil, err
			}
			if password == nil {
				return s, "", nil, nil, errNoPasswordToInclude
			}
		}
	}
	switch {
	case opts.SettingsFile != "":
		p, err := readSettingsFile(opts.SettingsFile, *addr)
		return account.Settings{Provider: p}, "settings file " + opts.SettingsFile, nil, password, err
	case opts.FromReport != "":
		rep, err := readReport(opts.FromReport)
		if err != nil {
			return s, "", nil, nil, err
		}
		if opts.Address == "" {
			if rep.Email == "" {
				return s, "", nil, nil, usageError("%s is a probe of the domain %s, not of one address: give the address too", opts.FromReport, rep.Domain)
			}
			opts.Address = rep.Email
			if *addr, err = parseAddress(rep.Email); err != nil {
				return s, "", nil, nil, err
			}
		}
		s, err := reportSettings(rep, opts.FromReport, *addr, "")
		return s, "probe report " + opts.FromReport, rep, password, err
	}
	popts, release, err := opts.Network(ctx)
	if err != nil {
		return s, "", nil, nil, err
	}
	defer release()
	if opts.IncludePassword && popts.Password == nil {
		return s, "", nil, nil, errNoPasswordToInclude
	}
	status := newStatusLine(opts.IO, "Probing "+opts.Address+": ")
	popts.Progress = status.progress()
	// The login name (--username) is the prober's first try, so a login
	// that is not the address is proven at once (issue 12); it reaches the
	// files through the answers.
	popts.Username = opts.Username
	popts.SkipDAV = mailOnly(opts.Services)
	rep, err = opts.Probe(ctx, popts, addr.String())
	status.clear()
	if err != nil {
		return s, "", nil, nil, withExitCode(exitUsage, err)
	}
	settleStatus(ctx, rep, popts.Timeout)
	if err := cutShort(rep, popts.Timeout); err != nil {
		return s, "", rep, nil, err
	}
	s, err = reportSettings(rep, "the probe", *addr, opts.Sandbox)
	return s, "probe of " + opts.Address, rep, popts.Password, err
}

// reportSettings turns a probe report into settings with the recommended
// incoming server first, or says why there are none; sandbox is the
// --sandbox scenario the suggested probe must carry ("" without one).
func reportSettings(rep *probe.Report, from string, addr autoconfig.Address, sandbox string) (account.Settings, error) {
	address := addr.String()
	probeCommand := "mailsetup probe " + address + sandboxArg(sandbox)
	if rep.Domain != "" && !strings.EqualFold(rep.Domain, addr.Domain) {
		return account.Settings{}, usageError("%s is for the domain %s, not %s: probe %s first", from, rep.Domain, addr.Domain, address)
	}
	if rep.Status == probe.StatusUnconfirmed {
		// Files with a host the user did not confirm would send the
		// password there (docs/password-rule.md).
		return account.Settings{}, withExitCode(exitUnconfirmed, fmt.Errorf("settings were found for %s but not proven, so nothing was written: %s", addr, unconfirmedReason(rep)))
	}
	s, err := account.FromReport(rep)
	switch {
	case errors.Is(err, account.ErrInsecureOnly):
		return s, withExitCode(exitInsecureOnly, fmt.Errorf("only servers without valid encryption answer for %s (--allow-plaintext or --trust-cert accept them at your own risk): nothing to write; run '%s' to see what was tried", addr, probeCommand))
	case errors.Is(err, account.ErrNoOutgoing):
		return s, withExitCode(exitNothingFound, fmt.Errorf("no working server for sending mail (SMTP) was found for %s: the files need one; run '%s' to see what was tried", addr, probeCommand))
	case err != nil:
		code := statusExit(rep.Status)
		if code == exitOK {
			code = exitNothingFound
		}
		return s, withExitCode(code, fmt.Errorf("no working mail server was found for %s: nothing to write; run '%s' to see what was tried", addr, probeCommand))
	}
	return s, nil
}

// readReport reads a saved `mailsetup probe --json` report.
func readReport(name string) (*probe.Report, error) {
	data, err := readBounded(name, maxReportSize)
	if err != nil {
		return nil, fmt.Errorf("--from: %s", peopleWords(err))
	}
	notReport := func(why string) error {
		return usageError("--from %q is not a report of 'mailsetup probe ADDRESS --json' (%s): probe the address and save what it prints", name, why)
	}
	var rep probe.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return nil, notReport(fmt.Sprintf("it is not JSON: line %d", lineOf(data, syntax.Offset)))
		case errors.As(err, &typ) && typ.Field == "":
			return nil, notReport("it is JSON, but not an object")
		case errors.As(err, &typ):
			return nil, notReport(fmt.Sprintf("its field %q holds the wrong kind of value", typ.Field))
		}
		return nil, notReport("it does not read as JSON")
	}
	// Version 2 only added dav and jmap: a version 1 report reads as one
	// without calendars and contacts.
	if rep.SchemaVersion < 1 || rep.SchemaVersion > probe.SchemaVersion {
		return nil, withExitCode(exitUsage, fmt.Errorf("--from %q has report schema version %d; this mailsetup reads versions 1 to %d: probe again",
			name, rep.SchemaVersion, probe.SchemaVersion))
	}
	if rep.Domain == "" {
		// A batch summary.json, or any other JSON with a schema_version.
		return nil, notReport("it names no probed domain; a batch's summary.json is not one")
	}
	return &rep, nil
}

// lineOf is the line number of a byte offset in data.
func lineOf(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

// readSettingsFile reads a config-v1.1 file, or an Autodiscover response
// (which names no domain: the address gives it).
func readSettingsFile(name string, addr autoconfig.Address) (*autoconfig.Provider, error) {
	data, err := readBounded(name, autoconfig.MaxDocumentSize)
	if err != nil {
		return nil, fmt.Errorf("--settings: %s", peopleWords(err))
	}
	if looks := lookalike(data); looks != "" {
		return nil, usageError("--settings %q is not an autoconfig file or Autodiscover response: it looks like %s", name, looks)
	}
	p, diags, err := autoconfig.ReadConfig(bytes.NewReader(data))
	// A finding comes first, even when the file could not be read to the
	// end: a server dropped for a bad host name is why none may be left,
	// and the finding names the value.
	for _, d := range diags {
		if d.Severity == autoconfig.Error {
			return nil, fmt.Errorf("--settings %s:%s (check it with 'mailsetup lint %s')", name, d, name)
		}
	}
	if err == nil {
		return p, nil
	}
	r, adErr := autoconfig.ReadAutodiscoverResponse(bytes.NewReader(data))
	if adErr != nil {
		return nil, fmt.Errorf("--settings %q is neither an autoconfig file nor an Autodiscover response that mailsetup can read; 'mailsetup lint %s' says what is wrong with it", name, name)
	}
	p, err = r.Provider(addr.Domain)
	if err != nil {
		return nil, fmt.Errorf("--settings %s: %s", name, peopleWords(err))
	}
	return p, nil
}

// readBounded reads at most limit bytes of a file, or says it is too big.
// Its errors end the process with exit code 1, as every unreadable file
// does (2 is for wrong flags and arguments).
func readBounded(name string, limit int64) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%q is larger than %d bytes", name, limit)
	}
	return data, nil
}

// printProfileSummary says which servers the files name and where they
// came from, then lists the files and the next steps as the wizard does.
func printProfileSummary(w io.Writer, dir string, acct profiles.Account, source string, files []profiles.File) {
	in, out := acct.In(), acct.Out()
	fmt.Fprintf(w, "Settings for %s (from the %s):\n", acct.Address, source)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range []struct {
		what string
		srv  autoconfig.Server
	}{{"incoming", in}, {"outgoing", out}} {
		fmt.Fprintf(tw, "  %s\t%s\t%s:%d\t%s\tuser %s\n", s.what, s.srv.Protocol.DisplayName(), s.srv.Hostname, s.srv.Port, securityWords(s.srv.Security), s.srv.Username)
	}
	for _, d := range acct.DAV() {
		what := "calendar"
		if d.Kind == autoconfig.CardDAV {
			what = "contacts"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t\tuser %s\n", what, d.Kind.DisplayName(), d.URL, d.Username)
	}
	tw.Flush()
	fmt.Fprintln(w)
	printWritten(w, dir, files)
}
