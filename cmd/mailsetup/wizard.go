package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/account"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/prompt"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

// whatPOP3Costs is said before the protocol is chosen; why IMAP is the
// recommendation's own reason.
const whatPOP3Costs = "POP3 downloads the mail to one device: read marks and folders stay on that device, and without \"leave messages on server\" the other devices never see the mail. mailsetup switches \"leave messages on server\" on."

type wizardOptions struct {
	IO   *iostreams.IOStreams
	JSON bool
	// Prompter is nil when the person cannot be asked (no terminal, or
	// MAILSETUP_NO_PROMPT): every answer must then come from a flag.
	Prompter prompt.Prompter
	Network  networkSetup
	// Probe is probe.Run; tests give the same findings to several runs.
	Probe probeFunc

	// Sandbox is the --sandbox scenario, nil without one: an address
	// outside its domains is refused (or asked again) before probing.
	Sandbox *sandbox.Scenario

	Address  string
	Name     string
	Protocol string
	Formats  string
	Out      string
	// Yes takes the wizard's preselected answers for every question left
	// open (the recommended protocol, every client, the default folder)
	// and confirms POP3.
	Yes   bool
	Force bool
	// Details shows every server that was looked up, as 'mailsetup probe'
	// does; people get the recommendation alone.
	Details bool
	// answerFlags are the pipeline's other answers: --username,
	// --autodiscover-path, the signing flags and --include-password.
	answerFlags
}

func newCmdWizard(f *Factory, runF func(*wizardOptions) error) *cobra.Command {
	opts := &wizardOptions{IO: f.IO, Probe: probe.Run}
	var net *netFlags
	cmd := &cobra.Command{
		Use:   "wizard",
		Short: "Set up a mail account step by step, or from flags in a script",
		Long: `Ask for the address, the name and (optionally) the password, probe the
provider with a live display of what is looked up and found, explain the
recommendation (IMAP whenever it works), then write the files for the chosen
mail clients and say how to import each one.

Every answer is also a flag. Questions are asked only when standard input and
output are terminals and MAILSETUP_NO_PROMPT is unset; otherwise a missing
answer is an error (exit 2) that names the flag to pass. --yes takes the
preselected answers (the recommended protocol, every client, the folder
mailsetup-ADDRESS) and confirms POP3 where it is chosen or is all that works.
Passwords come from --password-stdin, --password-file or MAILSETUP_PASSWORD,
never from a flag value. Ctrl-C at any question exits 2 and writes nothing.`,
		Example: `  mailsetup wizard
  mailsetup wizard --sandbox demo
  mailsetup wizard --address alice@example.com --name "Alice Liddell" \
      --protocol imap --format thunderbird,apple --out profiles/ --password-stdin < pw.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = f.JSON
			opts.Network = net.setup
			if net.sandbox != "" {
				sc, err := net.scenario()
				if err != nil {
					return err
				}
				opts.Sandbox = &sc
				if opts.Address == "" && !f.IO.CanPrompt() {
					// As 'probe --sandbox' does: the scenario's test address.
					opts.Address = sc.Address
				}
			}
			if f.IO.CanPrompt() {
				opts.Prompter = newSurveyPrompter(f.IO, f.JSON)
			}
			if runF != nil {
				return runF(opts)
			}
			return runWizard(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Address, "address", "", "the e-mail `ADDRESS` to set up")
	fl.StringVar(&opts.Name, "name", "", "the display `NAME` recipients see")
	fl.StringVar(&opts.Protocol, "protocol", "", "incoming `PROTOCOL`: imap or pop3 (asked; --yes takes the recommendation)")
	fl.StringVar(&opts.Formats, "format", "", "`CLIENTS` to write files for: "+formatChoices+" (asked; --yes takes all)")
	fl.StringVar(&opts.Out, "out", "", "`DIR`ectory to write the files into (asked; --yes takes mailsetup-ADDRESS)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "take the preselected answers and confirm POP3 without asking")
	fl.BoolVar(&opts.Force, "force", false, "overwrite files that already exist")
	fl.BoolVar(&opts.Details, "details", false, "show every server that was looked up and how each check went")
	addAnswerFlags(cmd, &opts.answerFlags, answerFlagSet{username: true, includePassword: true})
	net = addNetFlags(cmd)
	return cmd
}

// probeFunc is the signature of probe.Run.
type probeFunc func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error)

// newSurveyPrompter asks on the command's terminal; under --json the
// questions are drawn on stderr, so that stdout carries only the JSON.
func newSurveyPrompter(s *iostreams.IOStreams, asJSON bool) prompt.Prompter {
	in, okIn := s.In.(*os.File)
	out, okOut := s.Out.(*os.File)
	errOut, okErr := s.ErrOut.(*os.File)
	if !okIn || !okOut || !okErr {
		return nil
	}
	if asJSON {
		if !s.IsStderrTTY() {
			return nil
		}
		out = errOut
	}
	return prompt.NewSurvey(in, out, errOut)
}

// wizardResult is `wizard --json`.
type wizardResult struct {
	SchemaVersion int                 `json:"schema_version"`
	Email         string              `json:"email"`
	Status        probe.Status        `json:"status"`
	Protocol      string              `json:"protocol,omitempty"`
	Out           string              `json:"out,omitempty"`
	Files         []profileResultFile `json:"files"`
	Report        *probe.Report       `json:"report"`
}

// wizard is one run: the options, the answers gathered so far, and where
// to say things.
type wizard struct {
	opts     *wizardOptions
	ask      prompt.Prompter
	out      io.Writer
	err      io.Writer
	addr     autoconfig.Address
	protocol autoconfig.Protocol
	forms    []profiles.Format
	answers  account.Answers
	// refused counts the logins refused by earlier probes of this run.
	refused int
}

func runWizard(ctx context.Context, opts *wizardOptions) error {
	// What the wizard says holds servers' words (refusals, reason
	// phrases): no control character of theirs reaches the terminal.
	w := &wizard{opts: opts, ask: opts.Prompter, out: safeWriter{opts.IO.Out}, err: safeWriter{opts.IO.ErrOut}}
	if opts.JSON {
		// Human text goes to stderr so stdout carries only the JSON.
		w.out = w.err
	}
	err := w.run(ctx)
	if errors.Is(err, prompt.ErrCancelled) {
		return withExitCode(exitUsage, errors.New("cancelled; nothing was written"))
	}
	return err
}

func (w *wizard) run(ctx context.Context) error {
	if err := w.checkFlags(); err != nil {
		return err
	}
	if err := w.askAddress(); err != nil {
		return err
	}
	if err := w.askName(); err != nil {
		return err
	}
	popts, release, err := w.opts.Network(ctx)
	if err != nil {
		return err
	}
	defer release()
	if w.opts.IncludePassword && popts.Password == nil && w.ask == nil {
		return errNoPasswordToInclude
	}
	if popts.Password == nil && w.asking() {
		pw, err := w.ask.Password("Password (Enter skips the login test; sent only encrypted)")
		if err != nil {
			return err
		}
		if len(pw) > 0 {
			popts.Password = pw
		}
	}

	rep, err := w.probe(ctx, popts)
	if err != nil {
		return err
	}
	if rep, popts, err = w.confirmHosts(ctx, popts, rep); err != nil {
		return err
	}
	w.showFindings(rep)
	rep, popts, err = w.afterRefusal(ctx, rep, popts)
	if err != nil {
		return err
	}
	if rep.Recommendation == nil {
		return w.nothingWorks(rep)
	}
	settings, err := account.FromReport(rep)
	if errors.Is(err, account.ErrNoOutgoing) {
		return withExitCode(exitNothingFound, fmt.Errorf("no working server for sending mail (SMTP) was found for %s: mail clients need one; ask the provider for its outgoing server name", w.addr))
	}
	if err != nil {
		return err
	}
	protocol, err := w.chooseProtocol(rep)
	if err != nil {
		return err
	}
	if err := w.askFormats(); err != nil {
		return err
	}
	if w.opts.IncludePassword && !slices.Contains(w.forms, profiles.Apple) {
		return usageError("--include-password only applies to the Apple profile, and no files for iPhone, iPad and Mac were chosen")
	}
	if w.opts.IncludePassword {
		if popts.Password == nil {
			return errNoPasswordToInclude
		}
		w.answers.Password = popts.Password
	}
	dir, err := w.askOut()
	if err != nil {
		return err
	}
	w.answers.Name, w.answers.Protocol, w.answers.Formats = w.opts.Name, protocol, w.forms
	r, err := w.write(dir, func() (*account.Rendered, error) { return account.Render(settings, w.addr, w.answers) })
	if err != nil {
		return err
	}
	for _, n := range r.Notices {
		fmt.Fprintf(w.opts.IO.ErrOut, "warning: %s\n", noticeWords(n))
	}
	w.summary(dir, r.Files)
	if w.opts.JSON {
		res := wizardResult{SchemaVersion: jsonSchemaVersion, Email: w.addr.String(), Status: rep.Status,
			Protocol: string(r.Protocol), Out: dir, Files: resultFiles(dir, r.Files), Report: rep}
		if err := writeJSON(w.opts.IO.Out, res); err != nil {
			return err
		}
	}
	if rep.Status == probe.StatusLoginRejected {
		return withExitCode(exitLoginRejected, errors.New("the files are written, but the server refused the login: check the password (see the fix above)"))
	}
	return nil
}

// afterRefusal lets the person retype a refused password, or give the
// login name when it is not the address, within the prober's limit of two
// refused logins per direction (more could lock the account); or write the
// files anyway, which hold no password.
func (w *wizard) afterRefusal(ctx context.Context, rep *probe.Report, popts probe.Options) (*probe.Report, probe.Options, error) {
	for rep.Status == probe.StatusLoginRejected && w.asking() {
		if w.refused+refusedLogins(rep, w.addr) >= maxRefusedLogins {
			fmt.Fprint(w.out, wrapText("", "The server refused your login twice; mailsetup tries no more, so that your account is not locked. Check the password (and your login name) with your provider."))
			ok, err := w.ask.Confirm("Write the files anyway (they hold no password)?", true)
			if err != nil {
				return nil, popts, err
			}
			if !ok {
				return nil, popts, withExitCode(exitLoginRejected, errors.New("the login was refused; nothing was written"))
			}
			return rep, popts, nil
		}
		choice, err := w.ask.Select("The server refused your login. What now?", []string{
			"Type the password again",
			"My login name is not my e-mail address: type it",
			"Write the files anyway (they hold no password)",
			"Stop here and write nothing",
		}, 0)
		if err != nil {
			return nil, popts, err
		}
		switch choice {
		case 1:
			name, err := w.ask.Input("Login name", w.answers.Username)
			if err != nil {
				return nil, popts, err
			}
			w.answers.Username = strings.TrimSpace(name)
			fallthrough
		case 0:
			pw, err := w.ask.Password("Password")
			if err != nil {
				return nil, popts, err
			}
			if len(pw) == 0 {
				return rep, popts, nil
			}
			popts.Password = pw
		case 2:
			return rep, popts, nil
		default:
			return nil, popts, withExitCode(exitLoginRejected, errors.New("the login was refused; nothing was written"))
		}
		// The refusals of every probe of this run count against the limit.
		w.refused += refusedLogins(rep, w.addr)
		if rep, err = w.probe(ctx, popts); err != nil {
			return nil, popts, err
		}
		w.showFindings(rep)
	}
	return rep, popts, nil
}

// maxRefusedLogins is the prober's limit of refused logins per direction;
// the wizard's retries stay within it.
const maxRefusedLogins = 2

// refusedLogins counts the refused logins on incoming servers, erring
// high: a server that refused the local part was tried with the full
// address first (the prober's order without a published template).
func refusedLogins(rep *probe.Report, addr autoconfig.Address) int {
	n := 0
	for _, s := range rep.Servers {
		if s.Login != probe.LoginFailed || s.Protocol == autoconfig.SMTP {
			continue
		}
		n++
		if d := s.LoginDetail; d != nil && d.Username == addr.LocalPart && addr.LocalPart != addr.ASCII() {
			n++
		}
	}
	return n
}

// checkFlags rejects bad flag values and, when nobody can be asked, names
// every flag still missing, before anything touches the network.
func (w *wizard) checkFlags() error {
	o := w.opts
	protocol, err := parseProtocol(o.Protocol)
	if err != nil {
		return err
	}
	w.protocol = protocol
	if o.Formats != "" {
		forms, err := parseFormats(o.Formats)
		if err != nil {
			return err
		}
		w.forms = forms
	}
	if w.answers, err = o.answers(); err != nil {
		return err
	}
	if o.IncludePassword && w.forms != nil && !slices.Contains(w.forms, profiles.Apple) {
		return usageError("--include-password only applies to the Apple profile: add apple to --format")
	}
	if w.ask != nil {
		return nil
	}
	var missing []string
	if o.Address == "" {
		missing = append(missing, "--address")
	}
	if o.Name == "" {
		missing = append(missing, "--name")
	}
	if !o.Yes {
		if o.Protocol == "" {
			missing = append(missing, "--protocol")
		}
		if o.Formats == "" {
			missing = append(missing, "--format")
		}
		if o.Out == "" {
			missing = append(missing, "--out")
		}
	}
	if len(missing) > 0 {
		return usageError("no terminal to ask on (or MAILSETUP_NO_PROMPT is set): pass %s%s", strings.Join(missing, ", "), yesHint(o, missing))
	}
	return nil
}

func yesHint(o *wizardOptions, missing []string) string {
	if o.Yes {
		return ""
	}
	for _, m := range missing {
		if m != "--address" && m != "--name" {
			return " (or --yes to take the recommended protocol, every client and the folder mailsetup-ADDRESS)"
		}
	}
	return ""
}

func (w *wizard) askAddress() error {
	value := w.opts.Address
	for {
		if value == "" && w.ask != nil {
			suggested := ""
			if w.opts.Sandbox != nil {
				// As 'probe --sandbox' does: the scenario's test address.
				suggested = w.opts.Sandbox.Address
			}
			v, err := w.ask.Input("E-mail address", suggested)
			if err != nil {
				return err
			}
			value = strings.TrimSpace(v)
		}
		addr, err := autoconfig.ParseAddress(value)
		if err == nil && w.opts.Sandbox != nil {
			if err := sandboxCovers(*w.opts.Sandbox, value); err != nil {
				if w.ask == nil || w.opts.Address != "" {
					return err
				}
				fmt.Fprintf(w.err, "%v\n", err)
				value = ""
				continue
			}
		}
		if err == nil {
			w.addr, w.opts.Address = addr, value
			return nil
		}
		if w.ask == nil || w.opts.Address != "" {
			return usageError("--address: %s", peopleWords(err))
		}
		fmt.Fprintf(w.err, "%s; try again\n", peopleWords(err))
		value = ""
	}
}

func (w *wizard) askName() error {
	for w.opts.Name == "" {
		v, err := w.ask.Input("Your name, as recipients will see it", "")
		if err != nil {
			return err
		}
		w.opts.Name = strings.TrimSpace(v)
		if w.opts.Name == "" {
			fmt.Fprintln(w.err, "a name is needed: mail clients put it beside your address")
		}
	}
	return nil
}

// asking reports whether a question with a preselected answer is asked:
// not without a terminal, and not under --yes, which takes that answer.
func (w *wizard) asking() bool { return w.ask != nil && !w.opts.Yes }

// probe runs the probe and shows its progress, live, on a terminal's stderr
// as one status line that is erased when the findings print.
func (w *wizard) probe(ctx context.Context, popts probe.Options) (*probe.Report, error) {
	status := newStatusLine(w.opts.IO, "Looking up "+w.addr.String()+": ")
	popts.Progress = status.progress()
	// The login name (--username, or the answer after a refusal) is the
	// prober's first try (issue 12); it reaches the files through the
	// answers.
	popts.Username = w.answers.Username
	popts.SkipDAV = account.MailOnly(w.answers.Services)
	rep, err := w.opts.Probe(ctx, popts, w.addr.String())
	status.clear()
	if err != nil {
		return nil, withExitCode(exitUsage, err)
	}
	settleStatus(ctx, rep, popts.Timeout)
	if err := cutShort(rep, popts.Timeout); err != nil {
		return nil, err
	}
	return rep, nil
}

// confirmHosts asks, for each recommended server that no authenticated
// source in the address's domain named, whether the password may go there
// (docs/password-rule.md), and probes again with the hosts confirmed.
// Without a person to ask it ends with exit 7 and names --trust-host.
func (w *wizard) confirmHosts(ctx context.Context, popts probe.Options, rep *probe.Report) (*probe.Report, probe.Options, error) {
	rec := rep.Recommendation
	if rec == nil {
		return rep, popts, nil
	}
	var hosts []string
	for _, e := range []*probe.Endpoint{&rec.Incoming, rec.Outgoing} {
		if e != nil && e.NotConfirmed != "" && !slices.Contains(hosts, e.Host) {
			hosts = append(hosts, e.Host)
		}
	}
	if len(hosts) == 0 {
		return rep, popts, nil
	}
	if !w.asking() {
		w.showFindings(rep)
		return nil, popts, withExitCode(exitUnconfirmed, fmt.Errorf("%s: %s, so nothing was written; if you trust that, pass --trust-host %s",
			strings.Join(hosts, " and "), probe.NotConfirmed, strings.Join(hosts, " --trust-host ")))
	}
	for _, h := range hosts {
		fmt.Fprint(w.out, wrapText("", fmt.Sprintf("%s was named by %s. %s, and %s is outside %s: a client set up with it sends your password there.",
			h, namedBy(rep, h), untrustedBecause(rep, h), h, w.addr.Domain)))
		ok, err := w.ask.Confirm(fmt.Sprintf("Do you trust %s with your password for %s?", h, w.addr), false)
		if err != nil {
			return nil, popts, err
		}
		if !ok {
			w.showFindings(rep)
			return nil, popts, withExitCode(exitUnconfirmed, fmt.Errorf("%s was not confirmed; nothing was written", h))
		}
	}
	popts.TrustHosts = append(popts.TrustHosts, hosts...)
	rep, err := w.probe(ctx, popts)
	return rep, popts, err
}

// namedBy lists the answers that named host.
func namedBy(rep *probe.Report, host string) string {
	var targets []string
	for _, s := range rep.Servers {
		for _, src := range s.Sources {
			if s.Host == host && !slices.Contains(targets, src.Target) {
				targets = append(targets, src.Target)
			}
		}
	}
	return strings.Join(targets, " and ")
}

// untrustedBecause says why the answers that named host prove nothing.
func untrustedBecause(rep *probe.Report, host string) string {
	for _, s := range rep.Servers {
		for _, src := range s.Sources {
			if s.Host != host {
				continue
			}
			switch src.Trust {
			case "plain-http":
				return "That answer came over plain http, which anyone on the network path (a café's Wi-Fi) can rewrite"
			case "domain-dns":
				return "That answer came from DNS without DNSSEC, which can be forged"
			}
		}
	}
	return "No source that could not have been forged on the way named it"
}

// showFindings says in plain words what is recommended and why, and each
// problem once; --details adds every server and check, as 'mailsetup
// probe' shows them.
func (w *wizard) showFindings(rep *probe.Report) {
	if w.opts.Details && len(rep.Servers) > 0 {
		fmt.Fprintf(w.out, "What was found for %s:\n", w.addr)
		writeServers(w.out, rep)
		fmt.Fprintf(w.out, "  (%s; --json lists each)\n\n", lookupCounts(rep))
	}
	if rec := rep.Recommendation; rec != nil {
		writeRecommendationForPeople(w.out, rec)
		if r := rec.Requirement; r != nil {
			fmt.Fprint(w.out, wrapText("Note: ", r.Summary+" "+r.Fix))
		}
		switch rec.Confidence {
		case probe.ConfidenceLogin:
			fmt.Fprintln(w.out, "Your password worked.")
		case probe.ConfidenceTLS:
			fmt.Fprint(w.out, wrapText("", "The servers answered over a verified encrypted connection; without a password no login was tried."))
		}
	}
	for _, problem := range loginProblems(rep) {
		fmt.Fprint(w.out, wrapText("Warning: ", problem))
	}
	for _, warn := range rep.Warnings {
		if !isLoginRefusal(warn) && !isPOP3Only(warn) {
			fmt.Fprint(w.out, wrapText("Warning: ", warn))
		}
	}
	if !w.opts.Details && rep.Recommendation != nil {
		fmt.Fprintln(w.out, "(--details shows every server that was looked up and how it went)")
	}
	fmt.Fprintln(w.out)
}

// chooseProtocol settles IMAP or POP3: IMAP preselected, POP3 only after a
// confirmation that says what it costs.
func (w *wizard) chooseProtocol(rep *probe.Report) (autoconfig.Protocol, error) {
	rec := rep.Recommendation
	_, hasPOP3 := rep.Settings().FirstIncoming(autoconfig.POP3)
	_, hasIMAP := rep.Settings().FirstIncoming(autoconfig.IMAP)
	want := w.protocol
	switch {
	case want == autoconfig.IMAP && !hasIMAP:
		return "", withExitCode(exitNothingFound, fmt.Errorf("no working IMAP server was found for %s; only POP3 works: pass --protocol pop3 --yes", w.addr))
	case want == autoconfig.POP3 && !hasPOP3:
		why := "no working POP3 server was found"
		for _, s := range rep.Servers {
			if s.Protocol == autoconfig.POP3 && notChecked(s) {
				why = "POP3 servers were found but not proven: the probe stops once IMAP, which beats them, is proven"
				break
			}
		}
		return "", withExitCode(exitNothingFound, fmt.Errorf("%s for %s; use --protocol imap", why, w.addr))
	}
	if want == "" && w.asking() && hasIMAP && hasPOP3 {
		i, err := w.ask.Select("Incoming mail protocol", []string{
			"IMAP (recommended): mail stays on the server, the same on every device",
			"POP3: mail is downloaded to this device",
		}, 0)
		if err != nil {
			return "", err
		}
		want = [...]autoconfig.Protocol{autoconfig.IMAP, autoconfig.POP3}[i]
	}
	if want == "" {
		want = rec.Protocol
	}
	if want != autoconfig.POP3 {
		return want, nil
	}
	onlyPOP3 := rec.Protocol == autoconfig.POP3
	switch {
	case w.opts.Yes:
		fmt.Fprintf(w.out, "Using POP3 with \"leave messages on server\" on (confirmed by --yes).\n\n")
		return autoconfig.POP3, nil
	case w.ask == nil:
		return "", usageError("POP3 needs a confirmation: %s Pass --yes to confirm it%s", whatPOP3Costs, imapHint(hasIMAP))
	}
	if onlyPOP3 {
		fmt.Fprint(w.out, wrapText("", "Only POP3 works for this address. "+whatPOP3Costs))
	} else {
		fmt.Fprint(w.out, wrapText("", whatPOP3Costs))
	}
	ok, err := w.ask.Confirm("Use POP3, with \"leave messages on server\" on?", onlyPOP3)
	if err != nil {
		return "", err
	}
	switch {
	case ok:
		return autoconfig.POP3, nil
	case hasIMAP:
		fmt.Fprintln(w.out, "Using IMAP.")
		return autoconfig.IMAP, nil
	}
	return "", fmt.Errorf("%w: POP3 declined and IMAP does not work", prompt.ErrCancelled)
}

func imapHint(hasIMAP bool) string {
	if hasIMAP {
		return ", or --protocol imap"
	}
	return ""
}

func (w *wizard) askFormats() error {
	if w.forms != nil {
		return nil
	}
	if !w.asking() {
		w.forms = profiles.AllFormats
		return nil
	}
	var labels []string
	var all []int
	for i, f := range profiles.AllFormats {
		labels = append(labels, clientChoice(f))
		all = append(all, i)
	}
	for len(w.forms) == 0 {
		picked, err := w.ask.MultiSelect("Which mail apps should get files? (space ticks, Enter confirms)", labels, all)
		if err != nil {
			return err
		}
		for _, i := range picked {
			w.forms = append(w.forms, profiles.AllFormats[i])
		}
		if len(w.forms) == 0 {
			fmt.Fprintln(w.err, "tick at least one client")
		}
	}
	return nil
}

func (w *wizard) defaultOut() string { return "mailsetup-" + folderName(w.addr) }

func (w *wizard) askOut() (string, error) {
	switch {
	case w.opts.Out != "":
		return w.opts.Out, nil
	case !w.asking():
		return w.defaultOut(), nil
	}
	for {
		v, err := w.ask.Input("Folder to write the files into", w.defaultOut())
		if err != nil {
			return "", err
		}
		if v = strings.TrimSpace(v); v != "" {
			return v, nil
		}
	}
}

// write renders and writes the files; an existing file is replaced only
// with --force or, on a terminal, after asking.
func (w *wizard) write(dir string, render func() (*account.Rendered, error)) (*account.Rendered, error) {
	r, err := render()
	if err != nil {
		return nil, renderRefusal("the settings found for "+w.addr.String(), err)
	}
	err = r.Write(dir, w.opts.Force)
	if errors.Is(err, profiles.ErrExists) && w.asking() {
		ok, aerr := w.ask.Confirm(fmt.Sprintf("Files from an earlier run are in %s. Replace them?", dir), false)
		if aerr != nil {
			return nil, aerr
		}
		if !ok {
			return nil, fmt.Errorf("%w: kept the files in %s", prompt.ErrCancelled, dir)
		}
		err = r.Write(dir, true)
	}
	if err != nil {
		return nil, writeError(dir, err)
	}
	return r, nil
}

// summary lists what was written and, per client, the next step.
func (w *wizard) summary(dir string, files []profiles.File) { printWritten(w.out, dir, files) }

// printWritten lists files written under dir and, per client, the next step
// to import them: the end of the wizard and of the demo.
func printWritten(out io.Writer, dir string, files []profiles.File) {
	fmt.Fprintf(out, "Wrote %s to %s:\n", count(len(files), "file"), dir)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, f := range files {
		mode := ""
		if f.Secret {
			mode = " (0600: holds the password)"
		}
		fmt.Fprintf(tw, "  %s\t%s%s\n", filepath.FromSlash(f.Path), f.About, mode)
	}
	tw.Flush()
	fmt.Fprintln(out, "\nNext steps:")
	seen := map[profiles.Format]bool{}
	for _, f := range files {
		if !seen[f.Format] {
			seen[f.Format] = true
			fmt.Fprint(out, wrapText("  ", clientChoice(f.Format)+":"), wrapText("      ", f.Format.NextStep()))
		}
	}
}

// nothingWorks says what was tried and offers the setup sheet with what
// was found, for the person to complete with the provider's help.
func (w *wizard) nothingWorks(rep *probe.Report) error {
	fmt.Fprintf(w.out, "No working settings were found for %s.\n", w.addr)
	if w.opts.Details {
		fmt.Fprintf(w.out, "\nWhat was tried (%s; --json lists each)\n", lookupCounts(rep))
		writeTried(w.out, rep)
	}
	code, why := exitNothingFound, "no working mail server was found"
	if rep.Status == probe.StatusInsecureOnly {
		code, why = exitInsecureOnly, "only servers without valid encryption answer; --allow-plaintext or --trust-cert SHA256 accept them at your own risk"
	}
	sheet := unprovenSettings(rep)
	if sheet == nil {
		scenario := ""
		if w.opts.Sandbox != nil {
			scenario = w.opts.Sandbox.Name
		}
		fmt.Fprint(w.out, "\n"+wrapText("", nothingFoundNextSteps(w.addr, scenario)))
		return withExitCode(code, fmt.Errorf("%s for %s", why, w.addr))
	}
	write := false
	switch {
	case w.opts.Yes:
		write = true
	case w.ask != nil:
		ok, err := w.ask.Confirm("Write a setup sheet with the servers that were found (unproven), to complete with your provider's help?", true)
		if err != nil {
			return err
		}
		write = ok
	default:
		for _, f := range w.forms {
			write = write || f == profiles.Sheet
		}
	}
	if write {
		w.forms = []profiles.Format{profiles.Sheet}
		dir, err := w.askOut()
		if err != nil {
			return err
		}
		r, err := w.write(dir, func() (*account.Rendered, error) {
			return account.Render(account.Settings{Provider: sheet}, w.addr, account.Answers{Name: w.opts.Name, Username: w.answers.Username, Formats: w.forms, Services: w.answers.Services})
		})
		if err != nil {
			return err
		}
		w.summary(dir, r.Files)
		fmt.Fprintln(w.out, "These settings are NOT proven: ask your provider to confirm them.")
	}
	return withExitCode(code, fmt.Errorf("%s for %s", why, w.addr))
}

// unprovenSettings gathers the servers that were named by a published
// source or answered a guess (none of them proven) into settings for a setup
// sheet; nil without at least one incoming and one outgoing server.
func unprovenSettings(rep *probe.Report) *autoconfig.Provider {
	p := &autoconfig.Provider{ID: rep.Domain, Domains: []string{rep.Domain}}
	for _, s := range rep.Servers {
		named := s.Reachable
		for _, src := range s.Sources {
			named = named || src.Method != "guess"
		}
		if !named {
			continue
		}
		srv := autoconfig.Server{Protocol: s.Protocol, Hostname: s.Host, Port: s.Port, Security: s.Security,
			Auth: []autoconfig.AuthMethod{autoconfig.AuthPasswordCleartext}, Username: autoconfig.PlaceholderAddress}
		if s.Protocol == autoconfig.SMTP {
			p.Outgoing = append(p.Outgoing, srv)
		} else {
			p.Incoming = append(p.Incoming, srv)
		}
	}
	if len(p.Incoming) == 0 || len(p.Outgoing) == 0 {
		return nil
	}
	return p
}

// folderName is an address as a directory name, one per address: the
// local part's letters and digits (any script) and "._-+" as they are, the
// domain in ASCII form, and every other character, which some file system
// refuses, as "_". Where a character was replaced, a short hash of the
// address follows, so that two addresses never share a folder (ålice@ and
// älice@ each keep their own, as do a\b@ and a/b@).
func folderName(addr autoconfig.Address) string {
	local := norm.NFC.String(addr.LocalPart)
	replaced := false
	safe := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-+", r) {
			return r
		}
		replaced = true
		return '_'
	}, local)
	name := safe + "@" + addr.Domain
	if replaced || strings.HasPrefix(safe, ".") {
		sum := sha256.Sum256([]byte(strings.ToLower(local) + "@" + addr.Domain))
		name += "-" + hex.EncodeToString(sum[:4])
	}
	return name
}
