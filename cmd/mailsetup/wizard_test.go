package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/prompt"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/internal/sandbox/sandboxtest"
	"github.com/mailsetup/mailsetup/probe"
)

// catalogued returns a scenario of the sandbox's catalogue by name.
func catalogued(t *testing.T, name string) sandbox.Scenario {
	t.Helper()
	for _, s := range sandbox.Catalogue() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("the sandbox has no scenario %q", name)
	return sandbox.Scenario{}
}

// sandboxNetwork starts a world with the scenarios for the test and hands
// out its network, as --sandbox does. password, when not nil, plays
// --password-stdin.
func sandboxNetwork(t *testing.T, password []byte, scenarios ...string) networkSetup {
	t.Helper()
	w := sandboxtest.Start(t, sandbox.Options{Scenarios: scenarios})
	return func(ctx context.Context) (probe.Options, func(), error) {
		return probe.Options{Env: w.Env(), ISPDBURL: w.ISPDBURL(), Timeout: 10 * time.Second, Password: password}, func() {}, nil
	}
}

// wizardRun runs the wizard with a script (nil: no terminal) and returns the
// exit code and what it printed.
func wizardRun(t *testing.T, opts *wizardOptions, script *prompt.Script) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	opts.IO = ios
	if script != nil {
		opts.Prompter = script
	}
	if opts.Probe == nil {
		opts.Probe = probe.Run
	}
	err := runWizard(context.Background(), opts)
	if errors.Is(err, prompt.ErrScript) {
		t.Fatalf("the wizard asked something unexpected: %v\nasked so far: %q\nstdout:\n%s", err, script.Asked, out)
	}
	if err != nil {
		errOut.WriteString("mailsetup: " + peopleWords(err) + "\n")
	}
	people := errOut.String()
	if !opts.JSON {
		people += out.String()
	}
	forPeople(t, []string{"wizard", opts.Address}, people)
	if script != nil && code == 0 {
		if derr := script.Done(); derr != nil && err == nil {
			t.Errorf("%v (asked: %q)", derr, script.Asked)
		}
	}
	return exitCodeOf(err), out.String(), errOut.String()
}

// sameFindings is probe.Run that probes each input once and then hands
// every caller a copy of that report. A probe stops as soon as nothing could
// outrank what it has, so which alternatives got checked in time varies from
// run to run; tests that compare files give every run the same findings.
func sameFindings() probeFunc {
	var mu sync.Mutex
	seen := map[string][]byte{}
	return func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := seen[input]; !ok {
			rep, err := probe.Run(ctx, opts, input)
			if err != nil {
				return nil, err
			}
			seen[input], _ = json.Marshal(rep)
		}
		var rep probe.Report
		err := json.Unmarshal(seen[input], &rep)
		return &rep, err
	}
}

// readTree reads every file under dir, by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return files
}

func sameTrees(t *testing.T, a, b map[string][]byte, what string) {
	t.Helper()
	if len(a) == 0 {
		t.Fatalf("%s: no files at all", what)
	}
	for name, data := range a {
		if other, ok := b[name]; !ok {
			t.Errorf("%s: %s is missing", what, name)
		} else if !bytes.Equal(data, other) {
			t.Errorf("%s: %s differs:\n%s\n----\n%s", what, name, data, other)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("%s: %s is extra", what, name)
		}
	}
}

func TestWizardHappyPathAndFlagsWriteTheSameFiles(t *testing.T) {
	demo := catalogued(t, "demo")
	dir := t.TempDir()
	asked := filepath.Join(dir, "asked")
	script := prompt.NewScript(
		prompt.Reply("E-mail address", "not an address"),
		prompt.Reply("E-mail address", demo.Address),
		prompt.Reply("Your name", "Alice Liddell"),
		prompt.Reply("Password", demo.Password),
		// IMAP is preselected; POP3 is offered when the probe proved it
		// before it stopped.
		prompt.IfAsked("Incoming mail protocol", nil),
		prompt.Reply("Which mail apps", nil), // every client is preselected
		prompt.Reply("Folder", asked),
	)
	findings := sameFindings()
	code, out, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "demo"), Probe: findings}, script)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if q := script.Asked[4]; strings.Contains(q, "protocol") && !strings.Contains(q, "[IMAP (recommended)") {
		t.Errorf("the protocol question did not offer IMAP first as recommended: %q", q)
	}
	if strings.Contains(out, "What POP3 would cost") || strings.Contains(out, "POP3 keeps your mail") {
		t.Errorf("POP3's cost was explained although IMAP was chosen:\n%s", out)
	}
	for _, want := range []string{"Recommended: IMAP", "Incoming  IMAP  imap.demo.test:993  SSL/TLS (encrypted from the start)", "Login name: alice@demo.test",
		"Why: IMAP keeps", "Your password worked.", "Next steps:", "thunderbird/user.js", "Android (Thunderbird"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "not an e-mail address") {
		t.Errorf("a bad address was not explained: %q", errOut)
	}
	interactive := readTree(t, asked)
	for _, client := range []string{"thunderbird/", "outlook/", "apple/", "android/", "sheet/"} {
		found := false
		for name := range interactive {
			found = found || strings.HasPrefix(name, client)
		}
		if !found {
			t.Errorf("no %s files among %v", client, keys(interactive))
		}
	}

	// The same answers as flags, with the password on "stdin".
	flagged := filepath.Join(dir, "flags")
	code, out, errOut = wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, []byte(demo.Password), "demo"), Probe: findings,
		Address: demo.Address, Name: "Alice Liddell", Protocol: "imap", Formats: "all", Out: flagged}, nil)
	if code != exitOK {
		t.Fatalf("flags: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	sameTrees(t, interactive, readTree(t, flagged), "wizard by flags vs. by questions")
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestWizardWithoutTerminalNamesTheMissingFlags(t *testing.T) {
	for _, tc := range []struct {
		opts wizardOptions
		want string
	}{
		{wizardOptions{}, "pass --address, --name, --protocol, --format, --out (or --yes"},
		{wizardOptions{Address: "a@demo.test", Name: "A", Yes: true}, ""},
		{wizardOptions{Address: "a@demo.test", Yes: true}, "pass --name"},
		{wizardOptions{Address: "a@demo.test", Name: "A", Protocol: "imap", Formats: "all"}, "pass --out (or --yes"},
		{wizardOptions{Address: "a@demo.test", Name: "A", Protocol: "smtp", Yes: true}, `--protocol "smtp": choose imap or pop3`},
		{wizardOptions{Address: "a@demo.test", Name: "A", Formats: "thunderbird,palm", Yes: true}, `"palm"`},
		{wizardOptions{Address: "not-an-address", Name: "A", Yes: true}, `--address: not an e-mail address: "not-an-address"`},
	} {
		network := func(ctx context.Context) (probe.Options, func(), error) {
			return probe.Options{}, nil, errors.New("network reached")
		}
		opts := tc.opts
		opts.Network = network
		code, _, errOut := wizardRun(t, &opts, nil)
		if tc.want == "" {
			if !strings.Contains(errOut, "network reached") {
				t.Errorf("%+v: stopped before the probe: %s", tc.opts, errOut)
			}
			continue
		}
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%+v: exit %d, stderr %q; want exit 2 and %q", tc.opts, code, errOut, tc.want)
		}
	}
}

func TestWizardPOP3OnlyWarnsAndAsks(t *testing.T) {
	pop := catalogued(t, "pop3-only")
	dir := filepath.Join(t.TempDir(), "out")
	script := prompt.NewScript(
		prompt.Reply("Use POP3", true),
		prompt.Reply("Which mail apps", []string{"Thunderbird on a computer"}),
	)
	code, out, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, []byte(pop.Password), "pop3-only"),
		Address: pop.Address, Name: "Alice", Out: dir}, script)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Without IMAP:") || !strings.Contains(out, "Only POP3 works for this address") || !strings.Contains(script.Asked[0], "leave messages on server") {
		t.Errorf("the POP3 risk was not explained:\n%s\nasked: %q", out, script.Asked)
	}
	userJS, err := os.ReadFile(filepath.Join(dir, "thunderbird", "user.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(userJS, []byte(`"pop3"`)) || !bytes.Contains(userJS, []byte("leave_on_server\", true")) {
		t.Errorf("user.js does not set up POP3 with leave-on-server:\n%s", userJS)
	}

	// Declining POP3 when it is all that works writes nothing and exits 2.
	dir2 := filepath.Join(t.TempDir(), "declined")
	code, _, _ = wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "pop3-only"),
		Address: pop.Address, Name: "Alice", Out: dir2}, prompt.NewScript(prompt.Reply("Password", ""), prompt.Reply("Use POP3", false)))
	if code != exitUsage {
		t.Errorf("declining POP3: exit %d, want 2", code)
	}
	if _, err := os.Stat(dir2); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("declining POP3 left %s behind", dir2)
	}

	// Without a terminal, POP3 needs --yes.
	code, _, errOut = wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "pop3-only"),
		Address: pop.Address, Name: "Alice", Protocol: "pop3", Formats: "sheet", Out: dir2}, nil)
	if code != exitUsage || !strings.Contains(errOut, "--yes") {
		t.Errorf("POP3 without --yes: exit %d, stderr %q", code, errOut)
	}
}

func TestWizardCtrlCWritesNothing(t *testing.T) {
	demo := catalogued(t, "demo")
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "demo"), Address: demo.Address, Name: "A", Out: dir},
		prompt.NewScript(prompt.Reply("Password", ""), prompt.IfAsked("protocol", nil), prompt.Cancel("Which mail apps")))
	if code != exitUsage || !strings.Contains(errOut, "cancelled; nothing was written") {
		t.Errorf("Ctrl-C: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Ctrl-C left %s behind", dir)
	}
}

func TestWizardNothingFoundSaysWhatWasTried(t *testing.T) {
	none := catalogued(t, "nothing")
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "nothing"),
		Address: none.Address, Name: "A", Yes: true, Out: dir, Details: true}, nil)
	if code != exitNothingFound {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"What was tried (", "  srv ", "_tcp.nothing.test and 5 more", "What you can do: ask nothing.test (your provider)"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > textWidth {
			t.Errorf("line of %d columns (max %d): %q", n, textWidth, line)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("nothing found, yet %s was written", dir)
	}
}

func TestDemoWritesEveryProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	for run := range 2 { // the second run replaces the first one's files
		ios, _, out, errOut := iostreams.Test()
		if code := Main(ios, []string{"demo", "--out", dir}); code != exitOK {
			t.Fatalf("run %d: exit %d\n%s", run, code, errOut)
		}
		for _, want := range []string{"Recommended: IMAP", "Why: IMAP keeps", "Wrote 11 files to " + dir, "Next steps:", "mailsetup wizard"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("run %d: the demo did not say %q:\n%s", run, want, out)
			}
		}
	}
	files := readTree(t, dir)
	for _, name := range []string{"thunderbird/isp/demo.test.xml", "thunderbird/user.js", "outlook/autodiscover.xml", "outlook/autodiscover.reg",
		"outlook/outlook.prf", "apple/alice@demo.test.mobileconfig", "android/thunderbird-qr.png", "sheet/setup.html"} {
		if len(files[name]) == 0 {
			t.Errorf("the demo did not write %s (wrote %v)", name, keys(files))
		}
	}
	if !bytes.Contains(files["thunderbird/user.js"], []byte(demoName)) {
		t.Errorf("user.js lacks the demo's display name")
	}
}

func TestWizardJSON(t *testing.T) {
	demo := catalogued(t, "demo")
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "demo"), JSON: true,
		Address: demo.Address, Name: "Alice", Formats: "apple,sheet", Out: dir, Yes: true}, nil)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var res wizardResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	if res.Email != demo.Address || res.Protocol != "imap" || res.Status != probe.StatusOK || len(res.Files) != 3 ||
		res.Report == nil || res.Report.Recommendation == nil {
		t.Errorf("wizard --json = %+v", res)
	}
	for _, f := range res.Files {
		if _, err := os.Stat(f.Path); err != nil {
			t.Errorf("files[].path %q: %v", f.Path, err)
		}
	}
	if !strings.Contains(errOut, "Recommended: IMAP") {
		t.Errorf("the human report did not go to stderr under --json: %q", errOut)
	}
}

func TestWizardOffersTheSheetWithWhatItFound(t *testing.T) {
	plain := catalogued(t, "plaintext-only")
	dir := filepath.Join(t.TempDir(), "out")
	script := prompt.NewScript(prompt.Reply("Password", ""), prompt.Reply("setup sheet", true))
	code, out, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "plaintext-only"),
		Address: plain.Address, Name: "Alice", Out: dir}, script)
	if code != exitInsecureOnly {
		t.Fatalf("exit %d, want 5\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "No working settings were found") || !strings.Contains(out, "NOT proven") {
		t.Errorf("stdout:\n%s", out)
	}
	sheet, err := os.ReadFile(filepath.Join(dir, "sheet", "setup.txt"))
	if err != nil || !bytes.Contains(sheet, []byte("imap.plaintext.test")) {
		t.Errorf("the sheet lacks the server that was found: %v\n%s", err, sheet)
	}
	if files := readTree(t, dir); len(files) != 2 {
		t.Errorf("more than the sheet was written: %v", keys(files))
	}
}

func TestWizardSandboxOnlyItsDomains(t *testing.T) {
	code, out, errOut := runCLI(t, "", "wizard", "--sandbox", "demo", "--address", "bob@example.com", "--name", "Bob", "--yes", "--out", t.TempDir())
	want := "mailsetup: --sandbox demo simulates only demo.test: probe an address at demo.test, or leave out --sandbox\n"
	if code != exitUsage || errOut != want || out != "" {
		t.Errorf("exit %d, stderr %q, stdout %q; want exit %d and %q", code, errOut, out, exitUsage, want)
	}
}

// An address the Android QR format cannot carry costs the user only the
// Android files, with a warning, not every client's.
func TestWizardNonASCIIAddressLeavesOutOnlyAndroid(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "demo"),
		Address: "jörg@demo.test", Name: "Jörg", Protocol: "imap", Formats: "all", Out: out}, nil)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, errOut)
	}
	if !strings.Contains(errOut, "warning: no android files were written") {
		t.Errorf("no warning about Android: %q", errOut)
	}
	written := readTree(t, out)
	for name := range written {
		if strings.HasPrefix(name, "android/") {
			t.Errorf("Android file %s was written for a non-ASCII address", name)
		}
	}
	if _, ok := written["thunderbird/user.js"]; !ok {
		t.Errorf("the other clients' files are missing: %v", keys(written))
	}
}

// A refused password may be typed again, as long as the refusals stay
// within the prober's two: autoconfig-only's one server refused once.
func TestWizardRetypeRefusedPassword(t *testing.T) {
	sc := catalogued(t, "autoconfig-only")
	dir := filepath.Join(t.TempDir(), "out")
	script := prompt.NewScript(
		prompt.Reply("Password", "wrong-password"),
		prompt.Reply("refused your login. What now?", "Type the password again"),
		prompt.Reply("Password", sc.Password),
		prompt.Reply("Which mail apps", []string{"sheet"}),
	)
	code, out, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "autoconfig-only"),
		Address: sc.Address, Name: "Alice", Out: dir}, script)
	if code != exitOK || !strings.Contains(out, "Your password worked") {
		t.Fatalf("exit %d\nasked %q\nstdout:\n%s\nstderr:\n%s", code, script.Asked, out, errOut)
	}

	// The demo's two servers refused twice already: no third try.
	demo := catalogued(t, "demo")
	script = prompt.NewScript(
		prompt.Reply("Password", "wrong-password"),
		prompt.Reply("Write the files anyway", false),
	)
	code, out, _ = wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "demo"), Address: demo.Address, Name: "Alice",
		Out: filepath.Join(t.TempDir(), "demo")}, script)
	if code != exitLoginRejected || !strings.Contains(out, "refused your login twice") {
		t.Errorf("exit %d, want 4\nasked %q\n%s", code, script.Asked, out)
	}
}

// The wizard takes every answer of the pipeline as a flag: the password
// goes into the Apple profile only with --include-password, the .reg points
// at --autodiscover-path.
func TestWizardTakesThePipelineFlags(t *testing.T) {
	demo := catalogued(t, "demo")
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, []byte(demo.Password), "demo"),
		Address: demo.Address, Name: "Alice", Protocol: "imap", Formats: "apple,outlook", Out: dir,
		answerFlags: answerFlags{IncludePassword: true, AutodiscoverPath: `C:\mail\autodiscover.xml`, Username: "alice.l"}}, nil)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	files := readTree(t, dir)
	if !bytes.Contains(files["apple/alice@demo.test.mobileconfig"], []byte(demo.Password)) || !bytes.Contains(files["apple/alice@demo.test.mobileconfig"], []byte("alice.l")) {
		t.Errorf("the Apple profile lacks the password or the login name")
	}
	if !strings.Contains(errOut, "holds the password in clear text") || strings.Contains(errOut, "placeholder") {
		t.Errorf("warnings: %s", errOut)
	}
	// Without a password there is nothing to include.
	code, _, errOut = wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "demo"), Address: demo.Address, Name: "Alice",
		Protocol: "imap", Formats: "apple", Out: filepath.Join(t.TempDir(), "none"), answerFlags: answerFlags{IncludePassword: true}}, nil)
	if code != exitUsage || !strings.Contains(errOut, "--include-password needs the password") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestNothingFoundNextStepsCarrySandbox(t *testing.T) {
	addr := autoconfig.Address{LocalPart: "alice", Domain: "nothing.test", DomainUnicode: "nothing.test"}
	with := nothingFoundNextSteps(addr, "nothing")
	for _, want := range []string{"'mailsetup wizard --sandbox nothing --username NAME'", "'mailsetup wizard --sandbox nothing --details'"} {
		if !strings.Contains(with, want) {
			t.Errorf("with --sandbox the next steps lack %q: %s", want, with)
		}
	}
	if without := nothingFoundNextSteps(addr, ""); strings.Contains(without, "--sandbox") || !strings.Contains(without, "'mailsetup wizard --username NAME'") {
		t.Errorf("without --sandbox the next steps read: %s", without)
	}
}
