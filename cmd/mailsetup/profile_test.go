package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/probe"
)

const providersDir = "../../profiles/testdata/providers/"

func runMainWithInput(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	code = Main(io, args)
	return code, out.String(), errOut.String()
}

func TestProfileFromSettingsWritesEveryFormat(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runMain(t, "profile", "jane@example.test", "--name", "Jane Doe",
		"--settings", providersDir+"imap-pop3.xml", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, p := range []string{"thunderbird/isp/example.test.xml", "thunderbird/user.js", "outlook/autodiscover.xml",
		"outlook/autodiscover.reg", "outlook/outlook.prf", "apple/jane@example.test.mobileconfig",
		"android/thunderbird-qr.png", "android/thunderbird-qr.txt", "android/README.txt", "sheet/setup.html", "sheet/setup.txt"} {
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(p))); err != nil {
			t.Errorf("%s not written: %v", p, err)
		}
		if !strings.Contains(stdout, "  "+filepath.FromSlash(p)+" ") {
			t.Errorf("the summary does not list %s", p)
		}
	}
	for _, want := range []string{"IMAP  imap.example.test:993", "Wrote 11 files to " + out, "Next steps:", "Thunderbird on a computer:", "Outlook for Windows (classic, not New Outlook):"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "placeholder path") {
		t.Errorf("no warning about the .reg placeholder:\n%s", stderr)
	}

	// Everything Thunderbird- and Outlook-bound passes our own lint.
	for _, p := range []string{"thunderbird/isp/example.test.xml", "outlook/autodiscover.xml"} {
		if code, lintOut, lintErr := runMain(t, "lint", filepath.Join(out, p)); code != exitOK {
			t.Errorf("lint %s: exit %d\n%s%s", p, code, lintOut, lintErr)
		}
	}

	// A second run refuses to overwrite and names --force.
	code, _, stderr = runMain(t, "profile", "jane@example.test", "--name", "Jane Doe",
		"--settings", providersDir+"imap-pop3.xml", "--out", out)
	if code != exitFailure || !strings.Contains(stderr, "--force") {
		t.Errorf("second run: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runMain(t, "profile", "jane@example.test", "--name", "Jane Doe", "--force",
		"--settings", providersDir+"imap-pop3.xml", "--out", out)
	if code != exitOK {
		t.Errorf("--force: exit %d, %s", code, stderr)
	}
}

func TestProfileJSON(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runMain(t, "--json", "profile", "fritz@pop-only.test", "--name", "Fritz",
		"--settings", providersDir+"pop3-only.xml", "--format", "thunderbird,sheet", "--out", out,
		"--autodiscover-path", `C:\Users\fritz\autodiscover.xml`)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		SchemaVersion int    `json:"schema_version"`
		Email         string `json:"email"`
		Incoming      struct {
			Protocol string `json:"protocol"`
			Host     string `json:"host"`
			Username string `json:"username"`
		} `json:"incoming"`
		Files []struct {
			Format string `json:"format"`
			Path   string `json:"path"`
			Secret bool   `json:"secret"`
		} `json:"files"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if res.SchemaVersion != jsonSchemaVersion || res.Email != "fritz@pop-only.test" || len(res.Files) != 4 ||
		res.Incoming.Protocol != "pop3" || res.Incoming.Username != "fritz" {
		t.Errorf("JSON result %+v", res)
	}
	for _, f := range res.Files {
		if _, err := os.Stat(f.Path); err != nil {
			t.Errorf("listed file %s: %v", f.Path, err)
		}
	}
}

func TestProfileIncludePasswordAndSigning(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runMainWithInput(t, "hunter2-secret\n", "profile", "jane@example.test", "--name", "Jane",
		"--settings", providersDir+"imap-pop3.xml", "--format", "apple", "--out", out,
		"--include-password", "--password-stdin")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p := filepath.Join(out, "apple", "jane@example.test.mobileconfig")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	if fi.Mode().Perm() != 0o600 || !strings.Contains(string(data), "hunter2-secret") {
		t.Errorf("mode %v, password present %v", fi.Mode().Perm(), strings.Contains(string(data), "hunter2-secret"))
	}
	if !strings.Contains(stderr, "holds the password") {
		t.Errorf("no warning about the password:\n%s", stderr)
	}

	// Without a password source, --include-password is a usage error.
	t.Setenv(passwordEnv, "")
	os.Unsetenv(passwordEnv)
	code, _, stderr = runMain(t, "profile", "jane@example.test", "--name", "Jane",
		"--settings", providersDir+"imap-pop3.xml", "--format", "apple", "--out", t.TempDir(), "--include-password")
	if code != exitUsage || !strings.Contains(stderr, "--password-stdin") {
		t.Errorf("no password: exit %d, %s", code, stderr)
	}
	// --include-password without apple.
	code, _, stderr = runMain(t, "profile", "jane@example.test", "--name", "Jane",
		"--settings", providersDir+"imap-pop3.xml", "--format", "sheet", "--out", t.TempDir(), "--include-password")
	if code != exitUsage || !strings.Contains(stderr, "apple") {
		t.Errorf("without apple: exit %d, %s", code, stderr)
	}
	// Half the signing flags.
	code, _, stderr = runMain(t, "profile", "jane@example.test", "--name", "Jane",
		"--settings", providersDir+"imap-pop3.xml", "--format", "apple", "--out", t.TempDir(), "--sign-cert", "x.pem")
	if code != exitUsage || !strings.Contains(stderr, "--sign-key") {
		t.Errorf("half signing: exit %d, %s", code, stderr)
	}
}

func TestProfileUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"profile", "jane@example.test", "--out", "x", "--settings", providersDir + "imap-pop3.xml"}, "--name"},
		{[]string{"profile", "jane@example.test", "--name", "J", "--settings", providersDir + "imap-pop3.xml"}, "--out"},
		{[]string{"profile", "--name", "J", "--out", "x"}, "give the address"},
		{[]string{"profile", "not-an-address", "--name", "J", "--out", "x"}, "name@example.com"},
		{[]string{"profile", "jane@example.test", "--name", "J", "--out", "x", "--format", "palm", "--settings", providersDir + "imap-pop3.xml"}, `"palm"`},
		{[]string{"profile", "jane@example.test", "--name", "J", "--out", "x", "--protocol", "jmap", "--settings", providersDir + "imap-pop3.xml"}, "imap or pop3"},
		{[]string{"profile", "jane@example.test", "--name", "J", "--out", "x", "--autodiscover-path", "relative.xml", "--settings", providersDir + "imap-pop3.xml"}, "absolute Windows path"},
		{[]string{"profile", "jane@example.test", "--name", "J", "--out", "x", "--settings", "a.xml", "--from", "b.json"}, "not both"},
	} {
		code, _, stderr := runMain(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	// A file that cannot be read is exit 1, like every unreadable file.
	for _, args := range [][]string{
		{"--settings", "no-such.xml"},
		{"--from", "no-such.xml"},
		{"--settings", providersDir + "imap-pop3.xml", "--sign-cert", "no-such.xml", "--sign-key", "no-such.xml"},
	} {
		code, _, stderr := runMain(t, append([]string{"profile", "jane@example.test", "--name", "J", "--out", t.TempDir()}, args...)...)
		if code != exitFailure || !strings.Contains(stderr, "no-such.xml") {
			t.Errorf("%v: exit %d, stderr %q; want 1 naming the file", args, code, stderr)
		}
	}
	// IMAP asked of a POP3-only provider: a plain error that names the way out.
	out := t.TempDir()
	code, _, stderr := runMain(t, "profile", "fritz@pop-only.test", "--name", "F", "--out", out,
		"--protocol", "imap", "--settings", providersDir+"pop3-only.xml")
	if code != exitFailure || !strings.Contains(stderr, "no IMAP server") {
		t.Errorf("IMAP from POP3-only: exit %d, %s", code, stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed run left %v behind", entries)
	}
}

// reportFile writes a probe report as `mailsetup probe --json` would.
func reportFile(t *testing.T, rep *probe.Report) string {
	t.Helper()
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "probe.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProfileFromReport(t *testing.T) {
	rep := &probe.Report{
		SchemaVersion: probe.SchemaVersion,
		Email:         "ops@starttls.test",
		Domain:        "starttls.test",
		Status:        probe.StatusOK,
		Recommendation: &probe.Recommendation{
			Protocol: autoconfig.POP3,
			Incoming: probe.Endpoint{Protocol: autoconfig.POP3, Host: "pop.starttls.test", Port: 995, Security: autoconfig.SecurityTLS,
				Username: "ops", UsernameTemplate: "%EMAILLOCALPART%", Auth: autoconfig.AuthPasswordCleartext},
			Outgoing: &probe.Endpoint{Protocol: autoconfig.SMTP, Host: "smtp.starttls.test", Port: 587, Security: autoconfig.SecuritySTARTTLS,
				Username: "ops", UsernameTemplate: "%EMAILLOCALPART%", Auth: autoconfig.AuthPasswordCleartext},
			Alternatives: []probe.Endpoint{{Protocol: autoconfig.IMAP, Host: "imap.starttls.test", Port: 143, Security: autoconfig.SecuritySTARTTLS,
				UsernameTemplate: "%EMAILLOCALPART%", Auth: autoconfig.AuthPasswordCleartext}},
		},
	}
	out := t.TempDir()
	// No address: the report's own.
	code, stdout, stderr := runMain(t, "profile", "--from", reportFile(t, rep), "--name", "Ops", "--out", out, "--format", "thunderbird")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The recommendation (POP3) wins over the IMAP alternative.
	userJS, _ := os.ReadFile(filepath.Join(out, "thunderbird", "user.js"))
	if !strings.Contains(string(userJS), `"mail.server.server1.type", "pop3"`) || !strings.Contains(string(userJS), `leave_on_server", true`) {
		t.Errorf("user.js does not follow the POP3 recommendation:\n%s", userJS)
	}
	if !strings.Contains(stdout, "POP3  pop.starttls.test:995") {
		t.Errorf("summary:\n%s", stdout)
	}

	// Another domain's report is refused.
	code, _, stderr = runMain(t, "profile", "jane@example.test", "--from", reportFile(t, rep), "--name", "J", "--out", t.TempDir())
	if code != exitUsage || !strings.Contains(stderr, "starttls.test") {
		t.Errorf("other domain: exit %d, %s", code, stderr)
	}
	// A report without a recommendation: exit 3, nothing written.
	empty := *rep
	empty.Recommendation, empty.Status = nil, probe.StatusNothingFound
	dir := t.TempDir()
	code, _, stderr = runMain(t, "profile", "--from", reportFile(t, &empty), "--name", "J", "--out", dir)
	if code != exitNothingFound || !strings.Contains(stderr, "mailsetup probe") {
		t.Errorf("nothing found: exit %d, %s", code, stderr)
	}
	// A report of another schema version.
	old := *rep
	old.SchemaVersion = 99
	code, _, stderr = runMain(t, "profile", "--from", reportFile(t, &old), "--name", "J", "--out", dir)
	if code != exitUsage || !strings.Contains(stderr, "version 99") {
		t.Errorf("schema 99: exit %d, %s", code, stderr)
	}
}

// With a fresh probe of every sandbox scenario, in-process on loopback: where
// the scenario expects working settings, every format is written with the
// expected servers; where it expects none, nothing is written and the exit
// code says why.
func TestProfileEverySandboxScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: probes every sandbox scenario")
	}
	for _, sc := range sandbox.Catalogue() {
		t.Run(sc.Name, func(t *testing.T) {
			out := t.TempDir()
			args := []string{"--json", "profile", "--sandbox", sc.Name, "--name", "Test User", "--out", out, "--timeout", "20s"}
			if sc.Expect.NeedsConsent {
				// Without the user's confirmation nothing is written (exit 7).
				if code, _, stderr := runMain(t, args...); code != exitUnconfirmed || !strings.Contains(stderr, "--trust-host") {
					t.Errorf("without --trust-host: exit %d, want 7 naming --trust-host\n%s", code, stderr)
				}
				args = append(args, "--trust-host", sc.Expect.Incoming.Hostname, "--trust-host", sc.Expect.Outgoing.Hostname)
			}
			code, stdout, stderr := runMain(t, args...)
			if sc.Expect.Incoming == nil || sc.Expect.Outgoing == nil {
				if code == exitOK {
					t.Fatalf("nothing should work here, yet exit 0:\n%s", stdout)
				}
				if entries, _ := os.ReadDir(out); len(entries) != 0 {
					t.Errorf("files written although nothing works: %v", entries)
				}
				return
			}
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var res struct {
				Incoming autoconfig.Server `json:"incoming"`
				Outgoing autoconfig.Server `json:"outgoing"`
				Files    []struct{ Path string }
			}
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatal(err)
			}
			for _, pair := range []struct{ got, want autoconfig.Server }{{res.Incoming, *sc.Expect.Incoming}, {res.Outgoing, *sc.Expect.Outgoing}} {
				g, w := pair.got, pair.want
				if g.Protocol != w.Protocol || !strings.EqualFold(g.Hostname, w.Hostname) || g.Port != w.Port || g.Security != w.Security ||
					(w.Username != "" && g.Username != w.Username) {
					t.Errorf("wrote %s %s:%d %s user %q; the scenario expects %s %s:%d %s user %q",
						g.Protocol, g.Hostname, g.Port, g.Security, g.Username, w.Protocol, w.Hostname, w.Port, w.Security, w.Username)
				}
			}
			if len(res.Files) != 11 {
				t.Errorf("%d files written, want 11", len(res.Files))
			}
			for _, f := range res.Files {
				if strings.HasSuffix(f.Path, ".xml") {
					if code, lo, le := runMain(t, "lint", f.Path); code != exitOK {
						t.Errorf("lint %s: exit %d\n%s%s", f.Path, code, lo, le)
					}
				}
			}
		})
	}
}

// When probing, the password on standard input is read once and serves both
// the login test and --include-password.
func TestProfileProbeWithIncludedPassword(t *testing.T) {
	var demo sandbox.Scenario
	for _, sc := range sandbox.Catalogue() {
		if sc.Name == "demo" {
			demo = sc
		}
	}
	if demo.Name == "" {
		t.Fatal("the sandbox has no demo scenario")
	}
	out := t.TempDir()
	code, stdout, stderr := runMainWithInput(t, demo.Password+"\n", "profile", "--sandbox", "demo", "--name", "Demo User",
		"--out", out, "--format", "apple", "--include-password", "--password-stdin", "--timeout", "20s")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	addr, _ := autoconfig.ParseAddress(demo.Address)
	data, err := os.ReadFile(filepath.Join(out, "apple", addr.ASCII()+".mobileconfig"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "<key>IncomingPassword</key>") || !strings.Contains(string(data), demo.Password) {
		t.Error("the profile lacks the password")
	}
}

// --sandbox never supplies the scenario's password: --include-password with
// no password given is refused, and nothing is written.
func TestProfileSandboxIncludePasswordNeedsAPassword(t *testing.T) {
	t.Setenv(passwordEnv, "")
	os.Unsetenv(passwordEnv)
	out := t.TempDir()
	code, stdout, stderr := runMainWithInput(t, "", "profile", "--sandbox", "demo", "--name", "Demo User",
		"--out", out, "--format", "apple", "--include-password", "--timeout", "20s")
	if code != exitUsage || !strings.Contains(stderr, "--include-password needs the password") {
		t.Fatalf("exit %d, want %d with a request for the password\n%s%s", code, exitUsage, stdout, stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
}

// A non-ASCII local part has no Android QR code: --format all writes the
// other clients' files and warns; --format android alone fails.
func TestProfileAllFormatsLeavesOutAndroidForNonASCII(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runMain(t, "profile", "jürgen@example.test", "--name", "Jürgen",
		"--settings", providersDir+"imap-pop3.xml", "--out", out)
	if code != exitOK || !strings.Contains(stderr, "no android files were written") || !strings.Contains(stderr, "ASCII") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "sheet", "setup.txt")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(out, "android")); err == nil {
		t.Error("an android folder was written")
	}
	code, _, stderr = runMain(t, "profile", "jürgen@example.test", "--name", "Jürgen",
		"--settings", providersDir+"imap-pop3.xml", "--out", t.TempDir(), "--format", "android")
	if code != exitFailure || !strings.Contains(stderr, "ASCII") {
		t.Errorf("--format android: exit %d, %s", code, stderr)
	}
}

func TestProfileSandboxOnlyItsDomains(t *testing.T) {
	code, _, errOut := runMain(t, "profile", "bob@example.com", "--sandbox", "demo", "--name", "Bob", "--out", t.TempDir())
	if code != exitUsage || !strings.Contains(errOut, "--sandbox demo simulates only demo.test") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestSuggestedProbeCarriesSandbox: a hint run after --sandbox must look at
// the same simulated world; without --sandbox it would probe the real
// network for a *.test name.
func TestSuggestedProbeCarriesSandbox(t *testing.T) {
	for scenario, address := range map[string]string{"nothing": "alice@nothing.test", "plaintext-only": "alice@plaintext.test"} {
		code, _, stderr := runMain(t, "profile", address, "--sandbox", scenario, "--name", "A", "--out", t.TempDir()+"/x")
		want := "run 'mailsetup probe " + address + " --sandbox " + scenario + "'"
		if code == exitOK || !strings.Contains(stderr, want) {
			t.Errorf("--sandbox %s: exit %d, the hint lacks %q:\n%s", scenario, code, want, stderr)
		}
	}
	if _, err := reportSettings(&probe.Report{Domain: "nothing.test", Status: probe.StatusNothingFound}, "the probe",
		autoconfig.Address{LocalPart: "alice", Domain: "nothing.test"}, ""); err == nil || strings.Contains(err.Error(), "--sandbox") {
		t.Errorf("without --sandbox the hint names it: %v", err)
	}
}
