package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/internal/sandbox/sandboxtest"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// countingResolver counts the SRV questions for one name, to show that a
// batch asks each domain once.
type countingResolver struct {
	netx.Resolver
	name  string
	count atomic.Int32
}

func (r *countingResolver) LookupSRV(ctx context.Context, name string) ([]netx.SRV, netx.Meta, error) {
	if strings.TrimSuffix(name, ".") == r.name {
		r.count.Add(1)
	}
	return r.Resolver.LookupSRV(ctx, name)
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func batchRun(t *testing.T, opts *batchOptions) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	opts.IO = ios
	if opts.Probe == nil {
		opts.Probe = probe.Run
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 4
	}
	if opts.Formats == "" {
		opts.Formats = "all"
	}
	err := runBatch(context.Background(), opts)
	if err != nil {
		errOut.WriteString("mailsetup: " + peopleWords(err) + "\n")
	}
	forPeople(t, []string{"batch", opts.UsersFile}, errOut.String())
	return exitCodeOf(err), out.String(), errOut.String()
}

func TestBatchMixesGoodBadAndUnreachableUsers(t *testing.T) {
	demo, pop, lp := catalogued(t, "demo"), catalogued(t, "pop3-only"), catalogued(t, "username-localpart")
	w := sandboxtest.Start(t, sandbox.Options{Scenarios: []string{"demo", "pop3-only", "username-localpart"}})
	env := w.Env()
	counter := &countingResolver{Resolver: env.Resolver, name: "_imaps._tcp.demo.test"}
	env.Resolver = counter
	network := func(ctx context.Context) (probe.Options, func(), error) {
		return probe.Options{Env: env, ISPDBURL: w.ISPDBURL(), Timeout: 10 * time.Second}, func() {}, nil
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "demo.pw"), demo.Password+"\n")
	writeFile(t, filepath.Join(dir, "pop.pw"), pop.Password)
	writeFile(t, filepath.Join(dir, "lp.pw"), lp.Password+"\r\n")
	writeFile(t, filepath.Join(dir, "wrong.pw"), "not-the-password\n")
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, `Email,Display Name,Username,Password File
# line 2 is a comment
alice@demo.test,Alice Liddell,,demo.pw
bob@demo.test,Bob
not-an-address,Nobody
carol@demo.test,
alice@pop3-only.test,Alice P,,pop.pw
dave@unreachable.test,Dave
ALICE@demo.test,Alice again
eve@demo.test,Eve,,missing.pw
mallory@demo.test,Mallory,,wrong.pw
alice@localpart.test,Alice L,alice,lp.pw
`)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := batchRun(t, &batchOptions{Network: network, UsersFile: users, Out: out})
	if code != exitBatchPartial {
		t.Fatalf("exit %d, want 6\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "4 of 10 users got working settings") {
		t.Errorf("stdout = %q", stdout)
	}
	if n := counter.count.Load(); n != 1 {
		t.Errorf("demo.test's SRV records were asked for %d times; a batch probes each domain once", n)
	}

	want := map[int]struct{ email, status, protocol, errPart string }{
		3:  {"alice@demo.test", batchOK, "imap", ""},
		4:  {"bob@demo.test", batchOK, "imap", ""},
		5:  {"not-an-address", batchBadRow, "", "line 5: email \"not-an-address\""},
		6:  {"carol@demo.test", batchBadRow, "", "line 6: the name column is empty"},
		7:  {"alice@pop3-only.test", batchOK, "pop3", ""},
		8:  {"dave@unreachable.test", batchNothingFound, "", "line 8: no working mail server"},
		9:  {"ALICE@demo.test", batchBadRow, "", "already on line 3"},
		10: {"eve@demo.test", batchBadRow, "", "line 10: password_file \"missing.pw\" does not exist"},
		11: {"mallory@demo.test", batchLoginRejected, "imap", "refused the login"},
		12: {"alice@localpart.test", batchOK, "imap", ""},
	}
	var sum batchSummary
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Total != len(want) || sum.OK != 4 || len(sum.Users) != len(want) {
		t.Fatalf("summary: total %d ok %d users %d, want %d, 4", sum.Total, sum.OK, len(sum.Users), len(want))
	}
	for i, u := range sum.Users {
		wu, ok := want[u.Line]
		if !ok {
			t.Errorf("user %d has line %d", i, u.Line)
			continue
		}
		if u.Email != wu.email || u.Status != wu.status || u.Protocol != wu.protocol || !strings.Contains(u.Error, wu.errPart) {
			t.Errorf("line %d: %s %s %s %q; want %s %s %s %q", u.Line, u.Email, u.Status, u.Protocol, u.Error, wu.email, wu.status, wu.protocol, wu.errPart)
		}
		if wu.errPart != "" && !strings.Contains(stderr, wu.errPart) {
			t.Errorf("line %d's problem is not in the log:\n%s", u.Line, stderr)
		}
		if u.Status == batchOK || u.Status == batchLoginRejected {
			if _, err := os.Stat(filepath.Join(u.Folder, "thunderbird", "user.js")); err != nil {
				t.Errorf("line %d: no files in %q: %v", u.Line, u.Folder, err)
			}
		}
	}
	if got := sum.Users[0]; got.Login != "ok" || got.Confidence != probe.ConfidenceLogin {
		t.Errorf("alice@demo.test with a password file: login %q confidence %q", got.Login, got.Confidence)
	}
	if got := sum.Users[1]; got.Login != "skipped" || got.Confidence != probe.ConfidenceTLS {
		t.Errorf("bob@demo.test without a password file: login %q confidence %q", got.Login, got.Confidence)
	}
	if got := sum.Users[0]; got.Incoming == nil || got.Incoming.Protocol != autoconfig.IMAP || got.Outgoing == nil || got.Outgoing.Protocol != autoconfig.SMTP {
		t.Errorf("alice@demo.test's servers lack their protocols: %+v %+v", got.Incoming, got.Outgoing)
	}
	if got := sum.Users[len(sum.Users)-1]; got.Login != "ok" || got.Incoming == nil || got.Incoming.Username != "alice" {
		t.Errorf("alice@localpart.test with username alice: %+v", got)
	}
	ud, err := os.ReadFile(filepath.Join(out, "alice@localpart.test", "thunderbird", "user.js"))
	if err != nil || !strings.Contains(string(ud), `"alice"`) {
		t.Errorf("the username column did not reach user.js: %v", err)
	}

	f, err := os.Open(filepath.Join(out, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want)+1 || rows[0][0] != "line" || rows[1][1] != "alice@demo.test" || rows[1][3] != batchOK {
		t.Errorf("summary.csv:\n%v", rows)
	}

	// A second run without --force keeps the files and says so per user,
	// without calling the users whose settings work failures.
	code, stdout, stderr = batchRun(t, &batchOptions{Network: network, UsersFile: users, Out: out})
	if code != exitBatchPartial || !strings.Contains(stderr, "--force") {
		t.Errorf("second run: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "4 of 10 users got working settings") || !strings.Contains(stdout, "4 kept the files of an earlier run") {
		t.Errorf("second run: stdout = %q", stdout)
	}
	data, err = os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum = batchSummary{}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.OK != 0 || sum.Skipped != 4 || sum.Failed != 6 {
		t.Errorf("second run: ok %d skipped %d failed %d, want 0, 4, 6", sum.OK, sum.Skipped, sum.Failed)
	}
	for _, u := range sum.Users {
		switch wu := want[u.Line]; {
		case wu.status == batchOK && (u.Status != batchSkipped || u.Incoming == nil || u.Folder == ""):
			t.Errorf("second run, line %d: %+v, want skipped with its servers", u.Line, u)
		case wu.status == batchLoginRejected && (u.Status != batchLoginRejected || !strings.Contains(u.Error, "kept")):
			t.Errorf("second run, line %d: %+v, want still login-rejected", u.Line, u)
		}
	}
}

// A refused login with the username column says why: the kind of refusal
// and the server's words, never an empty reason.
func TestBatchLoginRefusalSaysWhy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "wrong.pw"), "not-the-password\n")
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name,username,password_file\nbob@demo.test,Bob,bob,wrong.pw\n")
	code, _, stderr := batchRun(t, &batchOptions{Network: sandboxNetwork(t, nil, "demo"), UsersFile: users, Out: filepath.Join(dir, "out")})
	if code != exitBatchPartial {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !regexp.MustCompile(`refused bob(@demo.test)?: [^;\n]+; the server said "[^"]+"`).MatchString(stderr) {
		t.Errorf("the refusal gives no reason:\n%s", stderr)
	}
}

// Ctrl-C while a user is probed marks that user cancelled, not a bad row.
func TestBatchCancelledUserIsCancelled(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name\nalice@demo.test,Alice\n")
	ctx, cancel := context.WithCancel(context.Background())
	ios, _, _, _ := iostreams.Test()
	interrupt := func(ctx context.Context, _ probe.Options, _ string) (*probe.Report, error) {
		cancel()
		return nil, ctx.Err()
	}
	out := filepath.Join(dir, "out")
	runBatch(ctx, &batchOptions{IO: ios, Network: sandboxNetwork(t, nil, "demo"), Probe: interrupt,
		UsersFile: users, Out: out, Formats: "all", Concurrency: 1})
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum batchSummary
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Users) != 1 || sum.Users[0].Status != batchCancelled || strings.Contains(sum.Users[0].Error, "context canceled") {
		t.Errorf("users = %+v, want one cancelled", sum.Users)
	}
}

// batch takes its passwords from the rows: the password flags are not
// offered, and giving one says where passwords come from.
func TestBatchOffersNoPasswordFlags(t *testing.T) {
	code, stdout, _ := runMain(t, "batch", "--help")
	if code != exitOK || strings.Contains(stdout, "--password-stdin") || strings.Contains(stdout, "--password-file") {
		t.Errorf("batch --help offers a password flag (exit %d):\n%s", code, stdout)
	}
	code, _, stderr := runMain(t, "batch", "users.csv", "--out", t.TempDir(), "--password-stdin")
	if code != exitUsage || !strings.Contains(stderr, "password_file column") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestBatchWizardAndProfileWriteTheSameFiles(t *testing.T) {
	demo := catalogued(t, "demo")
	findings := sameFindings()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "pw"), demo.Password)
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name,password_file\n"+demo.Address+",Alice Liddell,pw\n")
	out := filepath.Join(dir, "batch")
	code, _, stderr := batchRun(t, &batchOptions{Network: sandboxNetwork(t, nil, "demo"), Probe: findings, UsersFile: users, Out: out})
	if code != exitOK {
		t.Fatalf("batch: exit %d\n%s", code, stderr)
	}
	wiz := filepath.Join(dir, "wizard")
	code, _, stderr = wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, []byte(demo.Password), "demo"), Probe: findings,
		Address: demo.Address, Name: "Alice Liddell", Protocol: "imap", Formats: "all", Out: wiz}, nil)
	if code != exitOK {
		t.Fatalf("wizard: exit %d\n%s", code, stderr)
	}
	batchFiles := readTree(t, filepath.Join(out, demo.Address))
	sameTrees(t, readTree(t, wiz), batchFiles, "wizard vs. batch")

	// `mailsetup profile --from` a saved report of the same findings.
	rep, err := findings(context.Background(), probe.Options{}, demo.Address)
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(dir, "report.json")
	data, _ := json.Marshal(rep)
	writeFile(t, saved, string(data))
	prof := filepath.Join(dir, "profile")
	ios, _, _, errOut := iostreams.Test()
	if code := Main(ios, []string{"profile", "--from", saved, "--name", "Alice Liddell", "--format", "all", "--out", prof}); code != exitOK {
		t.Fatalf("profile --from: exit %d\n%s", code, errOut)
	}
	sameTrees(t, readTree(t, prof), batchFiles, "profile --from vs. batch")
}

func TestBatchRejectsUnusableFiles(t *testing.T) {
	dir := t.TempDir()
	network := func(ctx context.Context) (probe.Options, func(), error) {
		t.Error("the network was set up for a file that cannot be used")
		return probe.Options{}, func() {}, nil
	}
	for _, tc := range []struct{ content, want string }{
		{"", "is empty"},
		{"email,name\n", "has a header but no users"},
		{"mail,name\na@b.test,A\n", `unknown column "mail"`},
		{"name,username\nA,a\n", "must name the columns email and name"},
		{"email,email,name\n", `column "email" appears twice`},
	} {
		users := filepath.Join(dir, "users.csv")
		writeFile(t, users, tc.content)
		code, _, stderr := batchRun(t, &batchOptions{Network: network, UsersFile: users, Out: filepath.Join(dir, "out")})
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.content, code, stderr, tc.want)
		}
	}
	code, _, stderr := batchRun(t, &batchOptions{Network: network, UsersFile: filepath.Join(dir, "users.csv")})
	if code != exitUsage || !strings.Contains(stderr, "--out") {
		t.Errorf("no --out: exit %d, %q", code, stderr)
	}
	code, _, stderr = batchRun(t, &batchOptions{Network: network, UsersFile: filepath.Join(dir, "none.csv"), Out: dir})
	if code != exitFailure || !strings.Contains(stderr, "none.csv") {
		t.Errorf("missing users file: exit %d, %q", code, stderr)
	}
}

func TestBatchProgressBarOnlyOnATerminal(t *testing.T) {
	var r batchResult
	ios, _, _, errOut := iostreams.Test()
	p := newBatchProgress(ios, 2)
	r.Status = batchOK
	p.done(r)
	p.done(batchResult{Email: "x@y.test", Status: batchBadRow, Error: "line 3: bad"})
	p.finish()
	if got := errOut.String(); got != "batch: x@y.test: bad-row: line 3: bad\n" {
		t.Errorf("piped log = %q", got)
	}
	ios, _, _, errOut = iostreams.Test()
	ios.SetTTY(false, false, true)
	p = newBatchProgress(ios, 2)
	p.done(r)
	if !strings.Contains(errOut.String(), "[===============               ] 1/2 users, 0 failed") {
		t.Errorf("terminal bar = %q", errOut.String())
	}
}

// BenchmarkBatch runs a batch of 200 users: 150 at one sandbox domain (probed
// once, without passwords) and 50 spread over 10 domains that do not exist,
// writing every client's files for each user.
func BenchmarkBatch(b *testing.B) {
	w := sandboxtest.Start(b, sandbox.Options{Scenarios: []string{"demo"}})
	network := func(ctx context.Context) (probe.Options, func(), error) {
		return probe.Options{Env: w.Env(), ISPDBURL: w.ISPDBURL(), Timeout: 10 * time.Second}, func() {}, nil
	}
	dir := b.TempDir()
	var csvText strings.Builder
	csvText.WriteString("email,name\n")
	for i := range 150 {
		fmt.Fprintf(&csvText, "user%d@demo.test,User %d\n", i, i)
	}
	for i := range 50 {
		fmt.Fprintf(&csvText, "user%d@gone%d.test,Gone %d\n", i, i%10, i)
	}
	users := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(users, []byte(csvText.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		ios, _, _, _ := iostreams.Test()
		opts := &batchOptions{IO: ios, Network: network, Probe: probe.Run, UsersFile: users,
			Out: filepath.Join(dir, fmt.Sprint("out", i)), Formats: "all", Concurrency: 8}
		if err := runBatch(context.Background(), opts); exitCodeOf(err) != exitBatchPartial {
			b.Fatalf("batch: %v", err)
		}
	}
	b.ReportMetric(float64(200*b.N)/b.Elapsed().Seconds(), "users/s")
}

func TestBatchInterruptedKeepsWhatIsDone(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name\nalice@demo.test,Alice\nbad,Bad\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C before the first user
	ios, _, _, _ := iostreams.Test()
	err := runBatch(ctx, &batchOptions{IO: ios, Network: sandboxNetwork(t, nil, "demo"), Probe: probe.Run,
		UsersFile: users, Out: filepath.Join(dir, "out"), Formats: "all", Concurrency: 2})
	if exitCodeOf(err) != exitUsage || !strings.Contains(fmt.Sprint(err), "batch interrupted (Ctrl-C) after 1 of 2 users") {
		t.Fatalf("interrupted batch: %v (exit %d)", err, exitCodeOf(err))
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "summary.csv")); err != nil {
		t.Errorf("no summary of the users done: %v", err)
	}
}

// A user whose address has no Android QR code still gets the other files,
// with a warning in the summary.
func TestBatchLeavesOutAndroidForNonASCII(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name\njürgen@demo.test,Jürgen\n")
	out := filepath.Join(dir, "out")
	code, stdout, stderr := batchRun(t, &batchOptions{Network: sandboxNetwork(t, nil, "demo"), UsersFile: users, Out: out})
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum batchSummary
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	u := sum.Users[0]
	// The placeholder path of the .reg is warned about as profile and the
	// wizard warn about it.
	if u.Status != batchOK || len(u.Warnings) != 2 || !strings.Contains(u.Warnings[0], "no android files") || !strings.Contains(u.Warnings[1], "--autodiscover-path") {
		t.Errorf("user = %+v", u)
	}
	if _, err := os.Stat(filepath.Join(u.Folder, "sheet", "setup.txt")); err != nil {
		t.Error(err)
	}
}

// An unterminated quote is a bad row with its line, not a crash.
func TestBatchUnterminatedQuoteIsABadRow(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name\nbob@demo.test,Bob\n\"alice@demo.test,Alice\n")
	out := filepath.Join(dir, "out")
	code, _, stderr := batchRun(t, &batchOptions{Network: sandboxNetwork(t, nil, "demo"), UsersFile: users, Out: out, Formats: "sheet", Concurrency: 1})
	if code != exitBatchPartial || !strings.Contains(stderr, "line 3: ") || !strings.Contains(stderr, `must end with "`) {
		t.Errorf("exit %d, stderr %q; want 6 and line 3 named", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "bob@demo.test", "sheet", "setup.txt")); err != nil {
		t.Errorf("the good row was not written: %v", err)
	}
}

// A password_file stays inside the CSV's folder: no absolute path, no ..,
// no symlink out of it; an empty one names the column, not a flag batch
// refuses.
func TestBatchPasswordFilesStayInTheFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "users")
	secret := filepath.Join(root, "secret")
	writeFile(t, secret, "the neighbour's password\n")
	writeFile(t, filepath.Join(dir, "empty.pw"), "\n")
	if err := os.Symlink(secret, filepath.Join(dir, "link.pw")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name,password_file\n"+
		"a@demo.test,A,"+secret+"\n"+
		"b@demo.test,B,../secret\n"+
		"c@demo.test,C,link.pw\n"+
		"d@demo.test,D,empty.pw\n")
	network := func(ctx context.Context) (probe.Options, func(), error) { return probe.Options{}, func() {}, nil }
	var probed []string
	refuse := func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error) {
		probed = append(probed, input)
		return nil, errors.New("probed")
	}
	code, _, stderr := batchRun(t, &batchOptions{Network: network, Probe: refuse, UsersFile: users, Out: filepath.Join(root, "out"), Formats: "sheet", Concurrency: 1})
	if code != exitBatchPartial || len(probed) != 0 {
		t.Fatalf("exit %d, probed %v\n%s", code, probed, stderr)
	}
	for _, want := range []string{"line 2: password_file \"" + secret + "\" is an absolute path", "line 3: password_file \"../secret\" leads out of the folder",
		"line 4: password_file \"link.pw\" leads out of the folder", "line 5: password_file \"empty.pw\" has no password on its first line"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "--password-stdin") {
		t.Errorf("batch suggested a flag it refuses:\n%s", stderr)
	}
}

// One folder per address: addresses that differ only in characters a file
// system cannot take still get folders of their own.
func TestFolderNamesNeverCollide(t *testing.T) {
	seen := map[string]string{}
	for _, a := range []string{"ålice@demo.test", "älice@demo.test", "alice@demo.test", "a/b@demo.test", "a_b@demo.test", "a*b@demo.test",
		"a?b@demo.test", "jürgen@bücher.test", "jürgen@xn--bcher-kva.test"} {
		addr := mustAddress(t, a)
		name := folderName(addr)
		if strings.ContainsAny(name, "/\\?*:<>|\"") {
			t.Errorf("%s: folder %q has a character some file system refuses", a, name)
		}
		if other, ok := seen[strings.ToLower(name)]; ok && mustAddress(t, other) != addr {
			t.Errorf("%s and %s share the folder %q", a, other, name)
		}
		seen[strings.ToLower(name)] = a
	}
	if got := folderName(mustAddress(t, "alice@demo.test")); got != "alice@demo.test" {
		t.Errorf("a plain address became %q", got)
	}
}

// Without its argument a command says what to give, in its own terms.
func TestMissingArgumentsSayWhatToGive(t *testing.T) {
	for cmd, want := range map[string]string{
		"batch":       "give USERS.csv, as in 'mailsetup batch USERS.csv --out DIR'",
		"dns-records": "give DOMAIN, as in",
		"lint":        "give FILE, as in",
	} {
		code, _, stderr := runMain(t, cmd)
		if code != exitUsage || !strings.Contains(stderr, want) || strings.Contains(stderr, "arg(s)") {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", cmd, code, stderr, want)
		}
	}
}

// --version --json prints what 'version --json' prints.
func TestVersionFlagUnderJSON(t *testing.T) {
	_, flagOut, _ := runMain(t, "--version", "--json")
	_, cmdOut, _ := runMain(t, "--json", "version")
	if flagOut != cmdOut || !strings.Contains(flagOut, `"schema_version": 1`) {
		t.Errorf("--version --json = %q, version --json = %q", flagOut, cmdOut)
	}
	if _, text, _ := runMain(t, "--version"); text != "mailsetup "+version+"\n" {
		t.Errorf("--version = %q", text)
	}
}

// Help names what a flag takes, and shell completion offers the values.
func TestHelpAndCompletionOfValues(t *testing.T) {
	_, help, _ := runMain(t, "profile", "--help")
	for _, want := range []string{"--format CLIENTS", "--protocol PROTOCOL"} {
		if !strings.Contains(help, want) {
			t.Errorf("profile --help lacks %q", want)
		}
	}
	if _, help, _ := runMain(t, "dns-records", "--help"); !strings.Contains(help, "--ttl SECONDS") || !strings.Contains(help, "(default 3600)") {
		t.Errorf("dns-records --help shows --ttl as:\n%s", help)
	}
	for args, want := range map[string]string{
		"wizard --sandbox ":         "pop3-only",
		"profile x --format apple,": "apple,sheet",
		"batch x --protocol ":       "pop3",
	} {
		_, out, _ := runMain(t, append([]string{"__complete"}, strings.Split(args, " ")...)...)
		if !strings.Contains(out, want) {
			t.Errorf("completing %q: %q lacks %q", args, out, want)
		}
	}
}

// When only writing fails, batch says so, still prints the JSON, and says
// that the summary it could not write is missing or an earlier run's.
func TestBatchWriteFailureIsNotNothingFound(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name\nalice@demo.test,Alice\n")
	// A file where the output folder should be: nothing can be written.
	blocked := filepath.Join(dir, "blocked")
	writeFile(t, blocked, "a file, not a folder\n")
	ios, _, out, errOut := iostreams.Test()
	err := runBatch(context.Background(), &batchOptions{IO: ios, JSON: true, Network: sandboxNetwork(t, nil, "demo"), Probe: probe.Run,
		UsersFile: users, Out: filepath.Join(blocked, "out"), Formats: "sheet", Concurrency: 1})
	msg := peopleWords(err)
	if exitCodeOf(err) != exitFailure || !strings.Contains(msg, "the summary could not be written") || strings.Contains(msg, "no working") {
		t.Errorf("exit %d: %s", exitCodeOf(err), msg)
	}
	var sum batchSummary
	if jerr := json.Unmarshal(out.Bytes(), &sum); jerr != nil || len(sum.Users) != 1 {
		t.Fatalf("no JSON summary on stdout: %v\n%s", jerr, out)
	}
	if u := sum.Users[0]; u.Status != batchError || !strings.Contains(u.Error, "could not be written") || strings.Contains(u.Error, "profiles:") {
		t.Errorf("user = %+v\n%s", u, errOut)
	}
}

// Ctrl-C while the only user is being handled: none finished.
func TestBatchInterruptedBeforeAnyoneFinished(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name\nalice@demo.test,Alice\n")
	ctx, cancel := context.WithCancel(context.Background())
	interrupt := func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error) {
		cancel()
		return nil, ctx.Err()
	}
	ios, _, _, _ := iostreams.Test()
	err := runBatch(ctx, &batchOptions{IO: ios, Network: sandboxNetwork(t, nil, "demo"), Probe: interrupt,
		UsersFile: users, Out: filepath.Join(dir, "out"), Formats: "sheet", Concurrency: 1})
	if !strings.Contains(fmt.Sprint(err), "after 0 of 1 users") {
		t.Errorf("interrupted batch: %v", err)
	}
}
