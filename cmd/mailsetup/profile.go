package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
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

	Address string
	// SandboxAddress is the --sandbox scenario's address, "" without one.
	SandboxAddress   string
	Name             string
	Formats          string
	Out              string
	Force            bool
	SettingsFile     string
	FromReport       string
	Protocol         string
	AutodiscoverPath string
	SignCert         string
	SignKey          string
	SignChain        string
	IncludePassword  bool
}

func newCmdProfile(f *Factory, runF func(*profileOptions) error) *cobra.Command {
	opts := &profileOptions{IO: f.IO}
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
			}
			if runF != nil {
				return runF(opts)
			}
			return runProfile(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Name, "name", "", "the sender `NAME` that goes into every file, e.g. \"Jane Doe\"")
	fl.StringVar(&opts.Formats, "format", "all", "which files: "+formatChoices)
	fl.StringVar(&opts.Out, "out", "", "`DIR`ectory to write into (created if missing)")
	fl.BoolVar(&opts.Force, "force", false, "overwrite files that exist")
	fl.StringVar(&opts.SettingsFile, "settings", "", "take the settings from this autoconfig `FILE` (config-v1.1 XML or Autodiscover response) instead of probing")
	fl.StringVar(&opts.FromReport, "from", "", "take the settings from a saved 'mailsetup probe --json' `REPORT` instead of probing")
	fl.StringVar(&opts.Protocol, "protocol", "", "incoming protocol: imap or pop3 (default: the recommendation, IMAP where it exists)")
	fl.StringVar(&opts.AutodiscoverPath, "autodiscover-path", "", "absolute Windows `PATH` where autodiscover.xml will be kept; the .reg points there")
	fl.StringVar(&opts.SignCert, "sign-cert", "", "sign the Apple profile with this PEM certificate `FILE`")
	fl.StringVar(&opts.SignKey, "sign-key", "", "the PEM private key `FILE` of --sign-cert")
	fl.StringVar(&opts.SignChain, "sign-chain", "", "PEM intermediate certificates `FILE` to include in the signature")
	fl.BoolVar(&opts.IncludePassword, "include-password", false, "put the password into the Apple profile (written 0600; anyone with the file can read it)")
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
	if opts.Address != "" {
		// A bad address is a usage error before anything is probed or read.
		if _, err := autoconfig.ParseAddress(opts.Address); err != nil {
			return withExitCode(exitUsage, err)
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
	formats, err := profiles.ParseFormats(opts.Formats)
	if err != nil {
		return withExitCode(exitUsage, fmt.Errorf("--format: %w", err))
	}
	protocol := autoconfig.Protocol(strings.ToLower(opts.Protocol))
	if protocol != "" && protocol != autoconfig.IMAP && protocol != autoconfig.POP3 {
		return usageError("--protocol %q: choose imap or pop3", opts.Protocol)
	}
	if opts.AutodiscoverPath != "" {
		if err := profiles.CheckAutodiscoverPath(opts.AutodiscoverPath); err != nil {
			return withExitCode(exitUsage, err)
		}
	}
	popts := profiles.Options{AutodiscoverPath: opts.AutodiscoverPath}
	if popts.Apple.Signer, err = loadSigner(opts); err != nil {
		return err
	}
	if opts.IncludePassword && !slices.Contains(formats, profiles.Apple) {
		return usageError("--include-password only applies to the Apple profile: add apple to --format")
	}

	settings, source, rep, password, err := profileSettings(ctx, opts)
	if err != nil {
		return err
	}
	if opts.IncludePassword {
		popts.Apple.Password = string(password)
	}
	if protocol == "" && rep != nil {
		// The probe's recommendation, not merely the first IMAP server.
		protocol = rep.Recommendation.Protocol
	}
	addr, err := autoconfig.ParseAddress(opts.Address)
	if err != nil {
		return withExitCode(exitUsage, err)
	}
	var warnings []string
	if opts.SettingsFile != "" && !slices.Contains(settings.Domains, addr.Domain) {
		warnings = append(warnings, fmt.Sprintf("%s lists the domains %s, not %s: the files use its servers anyway",
			opts.SettingsFile, strings.Join(settings.Domains, ", "), addr.Domain))
	}
	acct, err := profiles.NewAccount(settings, addr, opts.Name, protocol)
	if err != nil {
		return err
	}
	// Several formats: one client that cannot take the account (no Android
	// QR code for a non-ASCII address) must not cost the others.
	files, omitted, err := profiles.RenderAvailable(acct, formats, popts)
	if errors.Is(err, profiles.ErrUnsupported) {
		return fmt.Errorf("%w; nothing was written: leave that client out of --format to write the others", err)
	}
	if err != nil {
		return err
	}
	if err := profiles.WriteFiles(opts.Out, files, opts.Force); err != nil {
		return err
	}
	warnings = append(warnings, omittedWarnings(omitted)...)
	warnings = append(warnings, profileWarnings(acct, files, popts)...)
	if opts.JSON {
		res := profileResult{SchemaVersion: jsonSchemaVersion, Email: addr.String(), Out: opts.Out, Source: source,
			Incoming: acct.In(), Outgoing: acct.Out(), Warnings: warnings}
		for _, f := range files {
			res.Files = append(res.Files, profileResultFile{Format: f.Format, Path: filepath.Join(opts.Out, filepath.FromSlash(f.Path)),
				About: f.About, Secret: f.Secret, Clients: f.Format.Clients()})
		}
		if res.Warnings == nil {
			res.Warnings = []string{}
		}
		if err := writeJSON(opts.IO.Out, res); err != nil {
			return err
		}
	} else {
		printProfileSummary(opts.IO.Out, opts.Out, acct, source, files)
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
// the settings came from one (its recommendation is then not nil). With
// --include-password it returns the password too, read once: when probing,
// the probe's network setup has read it (standard input cannot be read
// twice), and the check that there is one comes before the probe.
func profileSettings(ctx context.Context, opts *profileOptions) (p *autoconfig.Provider, source string, rep *probe.Report, password []byte, err error) {
	if opts.SettingsFile != "" || opts.FromReport != "" {
		if opts.IncludePassword {
			if password, err = opts.Password(); err != nil {
				return nil, "", nil, nil, err
			}
			if password == nil {
				return nil, "", nil, nil, errNoPasswordToInclude
			}
		}
	}
	switch {
	case opts.SettingsFile != "":
		p, err := readSettingsFile(opts.SettingsFile, opts.Address)
		return p, "settings file " + opts.SettingsFile, nil, password, err
	case opts.FromReport != "":
		rep, err := readReport(opts.FromReport)
		if err != nil {
			return nil, "", nil, nil, err
		}
		if opts.Address == "" {
			if rep.Email == "" {
				return nil, "", nil, nil, usageError("%s probed the domain %s, not an address: give the address too", opts.FromReport, rep.Domain)
			}
			opts.Address = rep.Email
		}
		p, err := reportSettings(rep, opts.FromReport, opts.Address)
		return p, "probe report " + opts.FromReport, rep, password, err
	}
	popts, release, err := opts.Network(ctx)
	if err != nil {
		return nil, "", nil, nil, err
	}
	defer release()
	if opts.IncludePassword && popts.Password == nil {
		return nil, "", nil, nil, errNoPasswordToInclude
	}
	status := newStatusLine(opts.IO, "Probing "+opts.Address+": ")
	popts.Progress = status.progress()
	rep, err = probe.Run(ctx, popts, opts.Address)
	status.clear()
	if err != nil {
		if errors.Is(err, probe.ErrBadInput) {
			return nil, "", nil, nil, withExitCode(exitUsage, err)
		}
		return nil, "", nil, nil, err
	}
	p, err = reportSettings(rep, "the probe", opts.Address)
	return p, "probe of " + opts.Address, rep, popts.Password, err
}

// reportSettings turns a probe report into settings with the recommended
// incoming server first, or says why there are none.
func reportSettings(rep *probe.Report, from, address string) (*autoconfig.Provider, error) {
	addr, err := autoconfig.ParseAddress(address)
	if err != nil {
		return nil, withExitCode(exitUsage, err)
	}
	if rep.Domain != "" && !strings.EqualFold(rep.Domain, addr.Domain) {
		return nil, usageError("%s is for the domain %s, not %s: probe %s first", from, rep.Domain, addr.Domain, address)
	}
	p := rep.Settings()
	if p == nil {
		code, why := exitNothingFound, "no working mail server was found"
		if rep.Status == probe.StatusInsecureOnly {
			code, why = exitInsecureOnly, "only servers without valid encryption answer (--allow-plaintext or --trust-cert accept them at your own risk)"
		}
		return nil, withExitCode(code, fmt.Errorf("%s for %s: nothing to write; run 'mailsetup probe %s' to see what was tried", why, addr, address))
	}
	if rep.Status == probe.StatusUnconfirmed {
		// Files with a host the user did not confirm would send the
		// password there (docs/password-rule.md).
		return nil, withExitCode(exitUnconfirmed, fmt.Errorf("settings were found for %s but not proven, so nothing was written: %s", addr, unconfirmedReason(rep)))
	}
	if len(p.Outgoing) == 0 {
		return nil, withExitCode(exitNothingFound, fmt.Errorf("no working SMTP server was found for %s: the files need one to send mail; run 'mailsetup probe %s' to see what was tried", addr, address))
	}
	return p, nil
}

// readReport reads a saved `mailsetup probe --json` report.
func readReport(name string) (*probe.Report, error) {
	data, err := readBounded(name, maxReportSize)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	var rep probe.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, withExitCode(exitUsage, fmt.Errorf("--from %q is not a 'mailsetup probe --json' report: %v", name, err))
	}
	if rep.SchemaVersion != probe.SchemaVersion {
		return nil, withExitCode(exitUsage, fmt.Errorf("--from %q has report schema version %d; this mailsetup reads version %d: probe again",
			name, rep.SchemaVersion, probe.SchemaVersion))
	}
	return &rep, nil
}

// readSettingsFile reads a config-v1.1 file, or an Autodiscover response
// (which names no domain: the address gives it).
func readSettingsFile(name, address string) (*autoconfig.Provider, error) {
	data, err := readBounded(name, autoconfig.MaxDocumentSize)
	if err != nil {
		return nil, fmt.Errorf("--settings: %w", err)
	}
	p, diags, err := autoconfig.ReadConfig(bytes.NewReader(data))
	if err == nil {
		for _, d := range diags {
			if d.Severity == autoconfig.Error {
				return nil, fmt.Errorf("--settings %s:%s (check it with 'mailsetup lint %s')", name, d, name)
			}
		}
		return p, nil
	}
	r, adErr := autoconfig.ReadAutodiscoverResponse(bytes.NewReader(data))
	if adErr != nil {
		return nil, fmt.Errorf("--settings %q is neither an autoconfig file nor an Autodiscover response: %v (check it with 'mailsetup lint %s')", name, err, name)
	}
	domain := ""
	if addr, err := autoconfig.ParseAddress(address); err == nil {
		domain = addr.Domain
	}
	p, err = r.Provider(domain)
	if err != nil {
		return nil, fmt.Errorf("--settings %s: %w", name, err)
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

// loadSigner reads --sign-cert, --sign-key and --sign-chain, if given.
func loadSigner(opts *profileOptions) (*profiles.Signer, error) {
	if opts.SignCert == "" && opts.SignKey == "" {
		if opts.SignChain != "" {
			return nil, usageError("--sign-chain needs --sign-cert and --sign-key")
		}
		return nil, nil
	}
	if opts.SignCert == "" || opts.SignKey == "" {
		return nil, usageError("signing needs both --sign-cert FILE and --sign-key FILE")
	}
	read := func(flag, name string) ([]byte, error) {
		if name == "" {
			return nil, nil
		}
		b, err := readBounded(name, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		return b, nil
	}
	cert, err := read("--sign-cert", opts.SignCert)
	if err != nil {
		return nil, err
	}
	key, err := read("--sign-key", opts.SignKey)
	if err != nil {
		return nil, err
	}
	chain, err := read("--sign-chain", opts.SignChain)
	if err != nil {
		return nil, err
	}
	s, err := profiles.NewSigner(cert, key, chain)
	if err != nil {
		return nil, withExitCode(exitUsage, err)
	}
	return s, nil
}

// profileWarnings are what the person must know before importing.
func profileWarnings(acct profiles.Account, files []profiles.File, popts profiles.Options) []string {
	var w []string
	for _, f := range files {
		switch {
		case f.Secret:
			w = append(w, fmt.Sprintf("%s holds the password in clear text (written 0600): install it, then delete it", f.Path))
		case f.Path == "outlook/autodiscover.reg" && popts.AutodiscoverPath == "":
			w = append(w, "outlook/autodiscover.reg points at a placeholder path: edit it (or pass --autodiscover-path C:\\...\\autodiscover.xml) before double-clicking it")
		case f.Format == profiles.Apple && acct.In().Security != autoconfig.SecurityTLS:
			w = append(w, fmt.Sprintf("%s: the provider offers no implicit-TLS %s port, and a profile cannot demand STARTTLS: check the account's security on the device after installing",
				f.Path, acct.Incoming.Protocol.DisplayName()))
		}
	}
	for _, s := range []autoconfig.Server{acct.Incoming, acct.Outgoing} {
		if s.Security == autoconfig.SecurityPlain {
			w = append(w, fmt.Sprintf("%s %s is not encrypted: passwords and mail travel readable on the network", s.Protocol.DisplayName(), s.Address()))
		}
	}
	return w
}

// printProfileSummary lists what was written, aligned, and per client the
// next step to import it.
func printProfileSummary(w io.Writer, dir string, acct profiles.Account, source string, files []profiles.File) {
	in, out := acct.In(), acct.Out()
	fmt.Fprintf(w, "Settings for %s (from the %s):\n", acct.Address, source)
	fmt.Fprintf(w, "  incoming  %-5s %s:%d  %s  user %s\n", in.Protocol.DisplayName(), in.Hostname, in.Port, in.Security.Description(), in.Username)
	fmt.Fprintf(w, "  outgoing  %-5s %s:%d  %s  user %s\n", out.Protocol.DisplayName(), out.Hostname, out.Port, out.Security.Description(), out.Username)
	fmt.Fprintf(w, "\nWrote %d files to %s:\n", len(files), dir)
	width := 0
	for _, f := range files {
		width = max(width, len(filepath.Join(dir, filepath.FromSlash(f.Path))))
	}
	for _, f := range files {
		mode := ""
		if f.Secret {
			mode = " (0600: holds the password)"
		}
		fmt.Fprintf(w, "  %-*s  %s%s\n", width, filepath.Join(dir, filepath.FromSlash(f.Path)), f.About, mode)
	}
	fmt.Fprintln(w, "\nNext steps:")
	seen := map[profiles.Format]bool{}
	for _, f := range files {
		if !seen[f.Format] {
			seen[f.Format] = true
			fmt.Fprintf(w, "  %-12s %s\n  %-12s %s\n", f.Format, f.Format.Clients(), "", f.Format.NextStep())
		}
	}
}
