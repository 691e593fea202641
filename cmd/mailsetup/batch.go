package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/account"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

// Bounds of a batch run.
const (
	maxUsersFile = 16 << 20
	maxUsers     = 100_000
	// maxConcurrency bounds users in flight: each probe may hold a dozen
	// connections of its own.
	maxConcurrency = 64
)

// User outcomes in the summary: a probe's outcome is its Status word, as
// 'probe --json' says it; the others are batch's own.
const (
	batchOK            = string(probe.StatusOK)
	batchLoginRejected = string(probe.StatusLoginRejected)
	batchNothingFound  = string(probe.StatusNothingFound)
	batchInsecureOnly  = string(probe.StatusInsecureOnly)
	batchUnconfirmed   = string(probe.StatusUnconfirmed)
	batchTimedOut      = string(probe.StatusTimedOut)
	batchError         = "error"
	batchBadRow        = "bad-row"
	// batchSkipped: settings found, but the user's folder already holds
	// files (a previous run's) and --force was not given; they are kept.
	batchSkipped = "skipped"
	// batchCancelled: Ctrl-C came while the user was being handled.
	batchCancelled = string(probe.StatusCancelled)
)

type batchOptions struct {
	IO      *iostreams.IOStreams
	JSON    bool
	Network networkSetup
	// Probe is probe.Run; tests give the same findings to several runs.
	Probe probeFunc

	UsersFile   string
	Out         string
	Formats     string
	Protocol    string
	Concurrency int
	Force       bool
	// answerFlags are --autodiscover-path and the signing flags; the login
	// name is the CSV's username column, and there is no --include-password:
	// it would put every user's password into a folder of files.
	answerFlags
}

func newCmdBatch(f *Factory, runF func(*batchOptions) error) *cobra.Command {
	opts := &batchOptions{IO: f.IO, Probe: probe.Run}
	var net *netFlags
	cmd := &cobra.Command{
		Use:   "batch USERS.csv --out DIR",
		Short: "Probe and write profiles for many users at once",
		Long: `Read users from a CSV file and write each one's client files into DIR/ADDRESS/,
with a summary of what was found and written per user in DIR/summary.csv and
DIR/summary.json (replaced on every run).

The CSV has a header row naming its columns, in any order:
  email          the address (required)
  name           the display name recipients see (required; "display name" works too)
  username       the login name, when it is not the address (optional)
  password_file  a file whose first line is the user's password, relative to
                 the CSV's folder (optional); then the login is tested
Lines starting with # are comments.

Each domain is probed once, without a password, and shared by its users;
only a user with a password file gets a login of their own, one attempt per
server, so a batch never trips a provider's lockout. A bad row is reported
with its line number and does not stop the others. The exit code is 0 when
every user got working settings and files, 6 otherwise.`,
		Example: `  mailsetup batch users.csv --out profiles/
  mailsetup batch users.csv --out profiles/ --format thunderbird,outlook --concurrency 4`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.UsersFile = args[0]
			opts.JSON = f.JSON
			opts.Network = net.setup
			if runF != nil {
				return runF(opts)
			}
			return runBatch(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Out, "out", "", "`DIR`ectory for the users' folders and the summary (required)")
	fl.StringVar(&opts.Formats, "format", "all", "`CLIENTS` to write files for: "+formatChoices)
	fl.StringVar(&opts.Protocol, "protocol", "", "incoming `PROTOCOL` for everyone: imap or pop3 (default: each user's recommendation)")
	fl.IntVar(&opts.Concurrency, "concurrency", 8, "users handled at once (1 to 64)")
	fl.BoolVar(&opts.Force, "force", false, "overwrite files that already exist in the users' folders")
	addAnswerFlags(cmd, &opts.answerFlags, answerFlagSet{})
	// Everyone's password is not one password: it comes from the rows.
	net = addNetFlagsWithoutPassword(cmd)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if strings.Contains(err.Error(), "--password-stdin") || strings.Contains(err.Error(), "--password-file") {
			return usageError("batch reads each user's password from the CSV's password_file column; drop %s",
				strings.TrimPrefix(err.Error(), "unknown flag: "))
		}
		return usageError("%v (see '%s --help')", err, c.CommandPath())
	})
	return cmd
}

// batchUser is one data row of the users file.
type batchUser struct {
	Line         int
	Email        string
	Name         string
	Username     string
	PasswordFile string
	addr         autoconfig.Address
}

// batchEndpoint is a server in the summary.
type batchEndpoint struct {
	Protocol autoconfig.Protocol `json:"protocol"`
	Host     string              `json:"host"`
	Port     int                 `json:"port"`
	Security autoconfig.Security `json:"security"`
	Username string              `json:"username"`
}

// batchResult is one user's line in the summary.
type batchResult struct {
	Line       int            `json:"line"`
	Email      string         `json:"email"`
	Name       string         `json:"name"`
	Status     string         `json:"status"`
	Protocol   string         `json:"protocol,omitempty"`
	Incoming   *batchEndpoint `json:"incoming,omitempty"`
	Outgoing   *batchEndpoint `json:"outgoing,omitempty"`
	Confidence string         `json:"confidence,omitempty"`
	// Login is ok, failed, or skipped (no password file).
	Login  string   `json:"login,omitempty"`
	Folder string   `json:"folder,omitempty"`
	Files  []string `json:"files"`
	Error  string   `json:"error,omitempty"`
	// Warnings name clients left out of the files, and why.
	Warnings []string `json:"warnings,omitempty"`
}

// batchSummary is DIR/summary.json and `batch --json`.
type batchSummary struct {
	SchemaVersion int           `json:"schema_version"`
	UsersFile     string        `json:"users_file"`
	Out           string        `json:"out"`
	Total         int           `json:"total"`
	OK            int           `json:"ok"`
	Skipped       int           `json:"skipped"`
	Failed        int           `json:"failed"`
	Users         []batchResult `json:"users"`
}

func runBatch(ctx context.Context, opts *batchOptions) error {
	if opts.Out == "" {
		return usageError("--out is missing: pass --out DIR for the users' folders and the summary")
	}
	if opts.Concurrency < 1 || opts.Concurrency > maxConcurrency {
		return usageError("--concurrency %d: use 1 to %d", opts.Concurrency, maxConcurrency)
	}
	protocol, err := parseProtocol(opts.Protocol)
	if err != nil {
		return err
	}
	formats, err := parseFormats(opts.Formats)
	if err != nil {
		return err
	}
	answers, err := opts.answers()
	if err != nil {
		return err
	}
	answers.Protocol, answers.Formats = protocol, formats
	users, bad, err := readUsers(opts.UsersFile)
	if err != nil {
		return err
	}
	popts, release, err := opts.Network(ctx)
	if err != nil {
		return err
	}
	defer release()
	// Each user's password comes from their row (the batch's network setup
	// reads none).
	popts.Cache = probe.NewCache()
	popts.SkipDAV = account.MailOnly(answers.Services)

	results := make([]batchResult, 0, len(users)+len(bad))
	results = append(results, bad...)
	progress := newBatchProgress(opts.IO, len(users)+len(bad))
	for _, r := range bad {
		progress.done(r)
	}
	b := &batcher{probe: opts.Probe, popts: popts, out: opts.Out, answers: answers,
		force: opts.Force, dir: filepath.Dir(opts.UsersFile)}
	// Password files are opened through the CSV folder's root, which no
	// path or symlink leaves: a CSV from someone else cannot make batch
	// read /etc/shadow and send its first line as a password.
	if b.passwords, err = os.OpenRoot(b.dir); err != nil {
		return fmt.Errorf("the users file's folder: %s", peopleWords(err))
	}
	defer b.passwords.Close()
	jobs := make(chan batchUser)
	var mu sync.Mutex
	var workers sync.WaitGroup
	for range min(opts.Concurrency, max(len(users), 1)) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for u := range jobs {
				r := b.handle(ctx, u)
				mu.Lock()
				results = append(results, r)
				progress.done(r)
				mu.Unlock()
			}
		}()
	}
	for _, u := range users {
		if ctx.Err() != nil {
			break
		}
		jobs <- u
	}
	close(jobs)
	workers.Wait()
	progress.finish()

	slices.SortStableFunc(results, func(a, b batchResult) int { return a.Line - b.Line })
	sum := batchSummary{SchemaVersion: jsonSchemaVersion, UsersFile: opts.UsersFile, Out: opts.Out, Total: len(results), Users: results}
	for _, r := range results {
		switch r.Status {
		case batchOK:
			sum.OK++
		case batchSkipped:
			sum.Skipped++
		}
	}
	sum.Failed = sum.Total - sum.OK - sum.Skipped
	summaryErr := writeSummary(opts.Out, sum)
	summaryPaths := filepath.Join(opts.Out, "summary.csv") + ", " + filepath.Join(opts.Out, "summary.json")
	if ctx.Err() != nil {
		// Not wrapped: Main would say "nothing was written", and the users
		// finished so far are.
		finished := 0
		for _, r := range results {
			if r.Status != batchCancelled {
				finished++
			}
		}
		where := "their files and the summary are in " + opts.Out
		if summaryErr != nil {
			where = "the summary could not be written: " + peopleWords(writeError(opts.Out, summaryErr))
		}
		return withExitCode(exitUsage, fmt.Errorf("batch interrupted (Ctrl-C) after %d of %d users; %s", finished, len(users)+len(bad), where))
	}
	if opts.JSON {
		// Printed even when the summary files could not be written: a
		// script still learns each user's outcome.
		if err := writeJSON(opts.IO.Out, sum); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(opts.IO.Out, "%d of %d users got working settings and files in %s", sum.OK+sum.Skipped, sum.Total, opts.Out)
		if sum.Skipped > 0 {
			fmt.Fprintf(opts.IO.Out, " (%d kept the files of an earlier run: --force replaces them)", sum.Skipped)
		}
		if summaryErr == nil {
			fmt.Fprintf(opts.IO.Out, "; summary: %s\n", summaryPaths)
		} else {
			fmt.Fprintln(opts.IO.Out)
		}
	}
	if summaryErr != nil {
		return fmt.Errorf("the summary could not be written (%s): %s, if there, are an earlier run's", peopleWords(writeError(opts.Out, summaryErr)), summaryPaths)
	}
	if sum.Failed > 0 {
		return withExitCode(exitBatchPartial, fmt.Errorf("%d of %d users got no working settings or files (%s); see %s",
			sum.Failed, sum.Total, failureCounts(results), filepath.Join(opts.Out, "summary.csv")))
	}
	return nil
}

// failureCounts says how many users ended in each failing status, in words
// that tell settings that do not work from files that could not be written.
func failureCounts(results []batchResult) string {
	counts := map[string]int{}
	for _, r := range results {
		if r.Status != batchOK && r.Status != batchSkipped {
			counts[r.Status]++
		}
	}
	words := map[string]string{
		batchError: "could not be written", batchBadRow: "bad rows", batchLoginRejected: "login refused",
		batchNothingFound: "nothing works", batchInsecureOnly: "only insecure servers", batchCancelled: "cancelled",
		batchTimedOut: "time ran out",
	}
	var parts []string
	for _, status := range []string{batchNothingFound, batchTimedOut, batchInsecureOnly, batchLoginRejected, batchBadRow, batchError, batchCancelled} {
		if n := counts[status]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, words[status]))
		}
	}
	return strings.Join(parts, ", ")
}

// readUsers reads the users file. Rows that cannot be used come back as
// bad-row results with their line numbers; the error is for a file that
// cannot be used at all.
func readUsers(name string) (users []batchUser, bad []batchResult, err error) {
	data, err := readBounded(name, maxUsersFile)
	if err != nil {
		return nil, nil, fmt.Errorf("users file: %w", err)
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, usageError("users file %q is empty: give a header row (email,name,username,password_file) and a row per user", name)
	}
	if err != nil {
		return nil, nil, usageError("users file %q: %v", name, err)
	}
	cols, err := usersColumns(header)
	if err != nil {
		return nil, nil, usageError("users file %q, line 1: %v", name, err)
	}
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// FieldPos is only for a record read without error: a parse
			// error carries its own line.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			why := err.Error()
			if pe != nil {
				why = pe.Err.Error() + csvHint(pe.Err)
			}
			bad = append(bad, batchResult{Line: line, Status: batchBadRow, Files: []string{}, Error: fmt.Sprintf("line %d: %s", line, why)})
			if pe == nil || pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
				// A broken quote swallows the rest of the file.
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(users)+len(bad) >= maxUsers {
			return nil, nil, usageError("users file %q has more than %d users: split it", name, maxUsers)
		}
		u, err := cols.user(rec, line)
		if err == nil {
			// Folders are named after addresses; two rows must not share one.
			key := strings.ToLower(folderName(u.addr))
			if first, dup := seen[key]; dup {
				err = fmt.Errorf("%s is already on line %d (or shares its folder %q)", u.Email, first, folderName(u.addr))
			} else {
				seen[key] = line
			}
		}
		if err != nil {
			bad = append(bad, batchResult{Line: line, Email: u.Email, Name: u.Name, Status: batchBadRow, Files: []string{}, Error: fmt.Sprintf("line %d: %v", line, err)})
			continue
		}
		users = append(users, u)
	}
	if len(users)+len(bad) == 0 {
		return nil, nil, usageError("users file %q has a header but no users: add a row per user", name)
	}
	return users, bad, nil
}

// csvHint says how to mend a row the CSV reader refused.
func csvHint(err error) string {
	if errors.Is(err, csv.ErrQuote) || errors.Is(err, csv.ErrBareQuote) {
		return `: a field that starts with " must end with ", and a " inside it is written ""`
	}
	return ""
}

// usersCols maps the header's column names to their positions.
type usersCols struct{ email, name, username, passwordFile int }

func usersColumns(header []string) (usersCols, error) {
	c := usersCols{-1, -1, -1, -1}
	for i, h := range header {
		key := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))))
		var slot *int
		switch key {
		case "email", "email_address", "address":
			slot = &c.email
		case "name", "display_name":
			slot = &c.name
		case "username", "login":
			slot = &c.username
		case "password_file":
			slot = &c.passwordFile
		default:
			return c, fmt.Errorf("unknown column %q: the columns are email, name, username, password_file", h)
		}
		if *slot >= 0 {
			return c, fmt.Errorf("column %q appears twice", h)
		}
		*slot = i
	}
	if c.email < 0 || c.name < 0 {
		return c, fmt.Errorf("the header row must name the columns email and name (and optionally username, password_file); got %q", strings.Join(header, ","))
	}
	return c, nil
}

func (c usersCols) user(rec []string, line int) (batchUser, error) {
	field := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	u := batchUser{Line: line, Email: field(c.email), Name: field(c.name), Username: field(c.username), PasswordFile: field(c.passwordFile)}
	if u.Email == "" {
		return u, errors.New("the email column is empty")
	}
	addr, err := autoconfig.ParseAddress(u.Email)
	if err != nil {
		return u, fmt.Errorf("email %q: %s", u.Email, peopleWords(err))
	}
	u.addr = addr
	if u.Name == "" {
		return u, fmt.Errorf("the name column is empty for %s: fill in the display name", u.Email)
	}
	return u, nil
}

// batcher handles one user at a time for the workers.
type batcher struct {
	probe probeFunc
	popts probe.Options
	out   string
	dir   string // the users file's folder: password files are relative to it
	// passwords is dir as the root password files are opened in.
	passwords *os.Root
	// answers are the batch's answers for everyone; each row adds its
	// name and login name.
	answers account.Answers
	force   bool
}

func (b *batcher) handle(ctx context.Context, u batchUser) batchResult {
	r := batchResult{Line: u.Line, Email: u.Email, Name: u.Name, Files: []string{}, Login: string(probe.LoginSkipped)}
	fail := func(status string, err error) batchResult {
		r.Status, r.Error = status, fmt.Sprintf("line %d: %s", u.Line, peopleWords(err))
		return r
	}
	popts := b.popts
	var password []byte
	if u.PasswordFile != "" {
		var err error
		if password, err = b.readPasswordFile(u.PasswordFile); err != nil {
			return fail(batchBadRow, err)
		}
		// The probe logs in with the row's username first, then the
		// provider's template, the address, the local part: through the
		// prober, so --timeout, the two refusals per direction and the
		// password rule hold for every row.
		popts.Password = password
		popts.Username = u.Username
	}
	rep, err := b.probe(ctx, popts, u.addr.String())
	if ctx.Err() != nil {
		return fail(batchCancelled, errors.New("interrupted (Ctrl-C) before this user was done; nothing was written for them"))
	}
	if err != nil {
		return fail(batchBadRow, err)
	}
	settleStatus(ctx, rep, b.popts.Timeout)
	status := rep.Status
	if password != nil {
		r.Login = string(recommendedLogin(rep))
	}
	switch status {
	case probe.StatusNothingFound:
		return fail(batchNothingFound, fmt.Errorf("no working mail server was found for %s", u.addr))
	case probe.StatusUnconfirmed:
		return fail(batchUnconfirmed, fmt.Errorf("settings were found for %s but not proven, so nothing was written: %s", u.addr, unconfirmedReason(rep)))
	case probe.StatusInsecureOnly:
		return fail(batchInsecureOnly, fmt.Errorf("only servers without valid encryption answer for %s", u.addr))
	case probe.StatusTimedOut:
		return fail(batchTimedOut, fmt.Errorf("nothing answered for %s in time: %s", u.addr, timedOutWords(b.popts.Timeout)))
	}
	rec := rep.Recommendation
	if rec.Outgoing == nil {
		return fail(batchNothingFound, fmt.Errorf("no working SMTP server was found for %s: mail clients need one to send mail", u.addr))
	}
	r.Confidence = rec.Confidence
	rendered, err := b.render(rep, u)
	if errors.Is(err, account.ErrBadAnswer) {
		// The row's name or username, not the provider, is at fault.
		return fail(batchBadRow, worded{peopleWords(err), err})
	}
	if err != nil {
		return fail(batchError, renderRefusal("the settings found for "+u.addr.String(), err))
	}
	files := rendered.Files
	r.Warnings = noticeList(rendered.Notices)
	r.Protocol = string(rendered.Protocol)
	folder := filepath.Join(b.out, folderName(u.addr))
	r.Incoming, r.Outgoing = summaryEndpoints(rendered)
	err = rendered.Write(folder, b.force)
	if errors.Is(err, profiles.ErrExists) {
		// A re-run into the same folder: the settings work, the files of
		// the earlier run are kept, and nothing here is the user's fault.
		r.Folder = folder
		if status == probe.StatusLoginRejected {
			return fail(batchLoginRejected, fmt.Errorf("the server refused the login for %s: %s (the files of an earlier run are kept in %s)", u.addr, loginReason(rep), folder))
		}
		return fail(batchSkipped, fmt.Errorf("files exist in %s, kept (pass --force to replace them)", folder))
	}
	if err != nil {
		return fail(batchError, writeError(folder, err))
	}
	r.Folder = folder
	for _, f := range files {
		r.Files = append(r.Files, f.Path)
	}
	if status == probe.StatusLoginRejected {
		return fail(batchLoginRejected, fmt.Errorf("the files are written, but the server refused the login for %s: %s", u.addr, loginReason(rep)))
	}
	r.Status = batchOK
	return r
}

// render writes the same files profile and the wizard write for the same
// answers: the row's name and login name, the batch's flags.
func (b *batcher) render(rep *probe.Report, u batchUser) (*account.Rendered, error) {
	settings, err := account.FromReport(rep)
	if err != nil {
		return nil, err
	}
	a := b.answers
	a.Name, a.Username = u.Name, u.Username
	return account.Render(settings, u.addr, a)
}

// unconfirmedReason says why the recommended settings are not proven: a
// host no authenticated source named (and how to confirm it), or a login
// that got no answer in the time left.
func unconfirmedReason(rep *probe.Report) string {
	rec := rep.Recommendation
	if rec == nil {
		return "no login could be made"
	}
	var hosts []string
	for _, e := range []*probe.Endpoint{&rec.Incoming, rec.Outgoing} {
		if e != nil && e.NotConfirmed != "" && !slices.Contains(hosts, e.Host) {
			hosts = append(hosts, e.Host)
		}
	}
	if len(hosts) > 0 {
		return fmt.Sprintf("%s: %s; if you trust that, pass --trust-host %s", strings.Join(hosts, " and "), probe.NotConfirmed, strings.Join(hosts, " --trust-host "))
	}
	return probe.NoAnswerInTime
}

// recommendedLogin is how the login went on the recommended incoming server.
func recommendedLogin(rep *probe.Report) probe.LoginStatus {
	rec := rep.Recommendation
	if rec == nil {
		return probe.LoginSkipped
	}
	for _, s := range rep.Servers {
		if s.Protocol == rec.Incoming.Protocol && s.Host == rec.Incoming.Host && s.Port == rec.Incoming.Port && s.Security == rec.Incoming.Security {
			return s.Login
		}
	}
	return probe.LoginSkipped
}

func loginReason(rep *probe.Report) string {
	for _, s := range rep.Servers {
		if d := s.LoginDetail; s.Login == probe.LoginFailed && d != nil && d.Reason != "" {
			parts := []string{fmt.Sprintf("%s:%d refused %s: %s", s.Host, s.Port, d.Username, d.Reason)}
			if d.ServerText != "" {
				parts = append(parts, fmt.Sprintf("the server said %q", d.ServerText))
			}
			if d.Fix != "" {
				parts = append(parts, d.Fix)
			}
			return strings.Join(parts, "; ")
		}
	}
	if n := len(rep.Warnings); n > 0 {
		return rep.Warnings[n-1]
	}
	return "check the password"
}

// summaryEndpoints are the servers the user's files name, usernames expanded.
func summaryEndpoints(r *account.Rendered) (in, out *batchEndpoint) {
	endpoint := func(s autoconfig.Server) *batchEndpoint {
		return &batchEndpoint{Protocol: s.Protocol, Host: s.Hostname, Port: s.Port, Security: s.Security, Username: s.Username}
	}
	return endpoint(r.Account.In()), endpoint(r.Account.Out())
}

// writeSummary writes DIR/summary.csv and DIR/summary.json together,
// replacing the previous run's.
func writeSummary(dir string, sum batchSummary) error {
	var csvBuf bytes.Buffer
	cw := csv.NewWriter(&csvBuf)
	cw.Write([]string{"line", "email", "name", "status", "protocol", "incoming", "outgoing", "confidence", "login", "folder", "files", "error"})
	for _, r := range sum.Users {
		cw.Write([]string{strconv.Itoa(r.Line), r.Email, r.Name, r.Status, r.Protocol, endpointText(r.Incoming), endpointText(r.Outgoing),
			r.Confidence, r.Login, r.Folder, strings.Join(r.Files, " "), csvProblems(r)})
	}
	cw.Flush()
	jsonBuf, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	return profiles.WriteFiles(dir, []profiles.File{
		{Path: "summary.csv", Data: csvBuf.Bytes()},
		{Path: "summary.json", Data: append(jsonBuf, '\n')},
	}, true)
}

// csvProblems is the summary.csv's error column: the error, then the
// warnings (summary.json keeps them apart).
func csvProblems(r batchResult) string {
	var all []string
	if r.Error != "" {
		all = append(all, r.Error)
	}
	return strings.Join(append(all, r.Warnings...), "; ")
}

func endpointText(e *batchEndpoint) string {
	if e == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d %s %s", e.Host, e.Port, e.Security, e.Username)
}

// readPasswordFile reads the first line of a password_file, which must
// lie in the users file's folder.
func (b *batcher) readPasswordFile(name string) ([]byte, error) {
	switch {
	case filepath.IsAbs(name) || filepath.VolumeName(name) != "":
		return nil, fmt.Errorf("password_file %q is an absolute path: give it relative to the folder of the users file, %s", name, b.dir)
	case !filepath.IsLocal(name):
		return nil, fmt.Errorf("password_file %q leads out of the folder of the users file (%s): keep the password files in that folder", name, b.dir)
	}
	f, err := b.passwords.Open(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("password_file %q does not exist in %s", name, b.dir)
	case err != nil && !errors.Is(err, fs.ErrPermission):
		// os.Root refuses a symlink that leads out of the folder.
		return nil, fmt.Errorf("password_file %q leads out of the folder of the users file (%s), perhaps by a link: keep the password files in that folder", name, b.dir)
	case err != nil:
		return nil, fmt.Errorf("password_file %q may not be read by you (permission denied)", name)
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(io.LimitReader(f, maxPasswordLen+2), maxPasswordLen+2).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("password_file %q cannot be read: %s", name, peopleWords(err))
	}
	line = bytes.TrimRight(line, "\r\n")
	switch {
	case len(line) == 0:
		return nil, fmt.Errorf("password_file %q has no password on its first line: put it there, or leave the column empty to skip this user's login", name)
	case len(line) > maxPasswordLen:
		return nil, fmt.Errorf("password_file %q holds a password longer than %d bytes", name, maxPasswordLen)
	}
	return line, nil
}

// batchProgress draws a progress bar on a terminal's stderr and otherwise
// logs only the users that failed.
type batchProgress struct {
	w        io.Writer
	tty      bool
	total    int
	finished int
	failed   int
}

func newBatchProgress(s *iostreams.IOStreams, total int) *batchProgress {
	return &batchProgress{w: s.ErrOut, tty: s.IsStderrTTY(), total: total}
}

func (p *batchProgress) done(r batchResult) {
	p.finished++
	if r.Status != batchOK {
		if r.Status != batchSkipped {
			p.failed++
		}
		if p.tty {
			fmt.Fprint(p.w, "\r\x1b[K")
		}
		who := r.Email
		if who == "" {
			who = "(no address)"
		}
		fmt.Fprintf(p.w, "batch: %s: %s: %s\n", who, r.Status, terminalSafe(r.Error))
	}
	if p.tty {
		const width = 30
		filled := width * p.finished / max(p.total, 1)
		fmt.Fprintf(p.w, "\r\x1b[K[%s%s] %d/%d users, %d failed", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.finished, p.total, p.failed)
	}
}

func (p *batchProgress) finish() {
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
