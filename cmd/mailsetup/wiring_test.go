package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe"
)

// --username reaches the prober, which tries it first (issue 12): on the
// sandbox provider whose servers accept only the local part, profile
// --username alice logs in on both sides with the first name it tries.
func TestProfileUsernameIsTheFirstLogin(t *testing.T) {
	sc := catalogued(t, "username-localpart")
	var mu sync.Mutex
	var known string
	var logins []string
	recording := func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error) {
		known = opts.Username
		show := opts.Progress
		opts.Progress = func(e probe.Event) {
			if e.Kind == probe.EventLogin && strings.HasPrefix(e.Text, "login to ") {
				mu.Lock()
				logins = append(logins, e.Text)
				mu.Unlock()
			}
			if show != nil {
				show(e)
			}
		}
		return probe.Run(ctx, opts, input)
	}
	network := sandboxNetwork(t, []byte(sc.Password), "username-localpart")
	code, _, stderr := runCommand(t, func(f *Factory) *cobra.Command {
		return newCmdProfile(f, func(o *profileOptions) error {
			o.Network, o.Probe = network, recording
			return runProfile(context.Background(), o)
		})
	}, "", sc.Address, "--name", "Alice", "--username", "alice", "--out", filepath.Join(t.TempDir(), "out"))
	if code != exitOK {
		t.Fatalf("profile: exit %d\n%s", code, stderr)
	}
	if known != "alice" {
		t.Errorf("the prober was given the login name %q, want %q from --username", known, "alice")
	}
	if len(logins) != 2 {
		t.Fatalf("want one login per side, got %d: %q", len(logins), logins)
	}
	for _, l := range logins {
		if !strings.Contains(l, `as "alice" worked`) {
			t.Errorf("login %q: want the first try, as alice, to work", l)
		}
	}
}

// badHosts are host names that must never reach a file (issue 13).
var badHosts = map[string]string{
	"url":        "https://imap.example.test:993",
	"space":      "imap example.test",
	"hyphens":    "-bad-.test",
	"long label": strings.Repeat("a", 300) + ".example.test",
	"localhost":  "localhost",
	"line break": "imap.example.test\nSMTPServer=attacker.test",
}

// settingsXML is a config-v1.1 file whose IMAP server is host.
func settingsXML(host string) string { return lintConfig("UTF-8", "Example Mail", host) }

// reportWith is a proven probe report whose recommended IMAP server is
// host: what a saved report (--from) or a prober could carry.
func reportWith(host string) *probe.Report {
	return &probe.Report{
		SchemaVersion: probe.SchemaVersion, Email: "alice@example.test", Domain: "example.test", Status: probe.StatusOK,
		Recommendation: &probe.Recommendation{
			Protocol: autoconfig.IMAP, Confidence: "login",
			Incoming: probe.Endpoint{Protocol: autoconfig.IMAP, Host: host, Port: 993, Security: autoconfig.SecurityTLS,
				Username: "alice@example.test", Auth: autoconfig.AuthPasswordCleartext},
			Outgoing: &probe.Endpoint{Protocol: autoconfig.SMTP, Host: "smtp.example.test", Port: 465, Security: autoconfig.SecurityTLS,
				Username: "alice@example.test", Auth: autoconfig.AuthPasswordCleartext},
		},
	}
}

// Every command refuses settings with a host name that is no host name,
// with one line that says what to do, exit 1 (bad file content), and no
// file written: the model's check runs where every path passes
// (account.Render), or earlier where the file is read.
func TestEveryCommandRefusesABadHostName(t *testing.T) {
	for what, host := range badHosts {
		t.Run(what, func(t *testing.T) {
			dir := t.TempDir()
			settings := filepath.Join(dir, "settings.xml")
			writeFile(t, settings, settingsXML(host))
			reportJSON, err := json.Marshal(reportWith(host))
			if err != nil {
				t.Fatal(err)
			}
			report := filepath.Join(dir, "report.json")
			writeFile(t, report, string(reportJSON))
			hostile := func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error) {
				return reportWith(host), nil
			}
			refused := func(cmd string, code int, stderr, out string) {
				t.Helper()
				want := exitFailure
				if cmd == "batch" {
					want = exitBatchPartial // the row failed, the summary says why
				}
				if code != want {
					t.Errorf("%s: exit %d, want %d\n%s", cmd, code, want, stderr)
				}
				if !strings.Contains(stderr, "host name") && !strings.Contains(stderr, "hostname") {
					t.Errorf("%s: the error does not say the host name is wrong: %q", cmd, stderr)
				}
				if strings.Contains(stderr, "autoconfig:") || strings.Contains(stderr, "account:") {
					t.Errorf("%s: words for programmers reach people: %q", cmd, stderr)
				}
				if out == "" {
					return
				}
				entries, _ := os.ReadDir(out)
				if len(entries) > 0 {
					t.Errorf("%s: files were written into %s: %v", cmd, out, entries)
				}
			}

			// Every client but Thunderbird, whose isp/ writer checks the
			// model again itself: the others rely on the one check.
			const formats = "outlook,apple,android,sheet"
			out := filepath.Join(dir, "profile-settings")
			code, _, stderr := runMain(t, "profile", "alice@example.test", "--name", "Alice", "--settings", settings, "--format", formats, "--out", out)
			refused("profile --settings", code, stderr, out)

			out = filepath.Join(dir, "profile-from")
			code, _, stderr = runMain(t, "profile", "alice@example.test", "--name", "Alice", "--from", report, "--format", formats, "--out", out)
			refused("profile --from", code, stderr, out)

			out = filepath.Join(dir, "wizard")
			code, _, stderr = wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "demo"), Probe: hostile,
				Address: "alice@example.test", Name: "Alice", Formats: formats, Out: out, Yes: true}, nil)
			refused("wizard", code, stderr, out)

			out = filepath.Join(dir, "batch")
			users := filepath.Join(dir, "users.csv")
			writeFile(t, users, "email,name\nalice@example.test,Alice\n")
			code, _, stderr = batchRun(t, &batchOptions{Network: sandboxNetwork(t, nil, "demo"), Probe: hostile,
				UsersFile: users, Out: out, Formats: formats, Concurrency: 1})
			refused("batch", code, stderr, filepath.Join(out, "alice@example.test"))

			serveYAML := filepath.Join(dir, "serve.yaml")
			writeFile(t, serveYAML, "listen: {http: \"127.0.0.1:8080\"}\nhostname: mailsetup.example.test\ndomains:\n  - name: example.test\n    file: settings.xml\n")
			code, _, stderr = runMain(t, "serve", "--check", "--config", serveYAML)
			refused("serve --check", code, stderr, "")
		})
	}
}

// A name or login name that holds a line break is a bad answer (exit 2),
// refused by the pipeline before any file is written, in every command.
func TestEveryCommandRefusesANameOnTwoLines(t *testing.T) {
	dir := t.TempDir()
	proven := func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error) {
		return reportWith("imap.example.test"), nil
	}
	const hostile = "Alice\nuser_pref(\"network.proxy.type\", 1);"
	for _, flag := range []string{"--name", "--username"} {
		name, user := hostile, ""
		if flag == "--username" {
			name, user = "Alice", "alice\r\nSMTPServer=attacker.test"
		}
		out := filepath.Join(dir, "profile"+flag)
		args := []string{"profile", "alice@example.test", "--name", name, "--from", "", "--format", "sheet", "--out", out}
		report := filepath.Join(dir, "report.json")
		b, _ := json.Marshal(reportWith("imap.example.test"))
		writeFile(t, report, string(b))
		args[5] = report
		if user != "" {
			args = append(args, "--username", user)
		}
		code, _, stderr := runMain(t, args...)
		if code != exitUsage || !strings.Contains(stderr, "one line") && !strings.Contains(stderr, "control characters") {
			t.Errorf("profile %s on two lines: exit %d, %q; want exit %d saying to write it on one line", flag, code, stderr, exitUsage)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("profile %s on two lines wrote %s", flag, out)
		}
	}
	out := filepath.Join(dir, "wizard")
	code, _, stderr := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "demo"), Probe: proven,
		Address: "alice@example.test", Name: hostile, Formats: "sheet", Out: out, Yes: true}, nil)
	if code != exitUsage || !strings.Contains(stderr, "one line") {
		t.Errorf("wizard --name on two lines: exit %d, %q", code, stderr)
	}
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name\nalice@example.test,\"Alice\nuser_pref(1)\"\n")
	out = filepath.Join(dir, "batch")
	code, _, stderr = batchRun(t, &batchOptions{Network: sandboxNetwork(t, nil, "demo"), Probe: proven,
		UsersFile: users, Out: out, Formats: "sheet", Concurrency: 1})
	if code != exitBatchPartial || !strings.Contains(stderr, "bad row") && !strings.Contains(stderr, "one line") {
		t.Errorf("batch with a name on two lines: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "alice@example.test")); err == nil {
		t.Errorf("batch wrote files for a name on two lines")
	}
}

// Files from settings that no login proved say so inside themselves
// (issue 13); files from a login that worked do not.
func TestUnprovenSettingsSayItInTheFiles(t *testing.T) {
	const note = "NOT proven to work"
	dir := t.TempDir()
	settings := filepath.Join(dir, "settings.xml")
	writeFile(t, settings, settingsXML("imap.example.test"))
	unproven := reportWith("imap.example.test")
	unproven.Recommendation.Confidence = probe.ConfidenceTLS
	proven := reportWith("imap.example.test")
	for what, rep := range map[string]*probe.Report{"tls only": unproven, "login": proven} {
		b, _ := json.Marshal(rep)
		writeFile(t, filepath.Join(dir, what+".json"), string(b))
	}
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"settings file", []string{"--settings", settings}, true},
		{"report without a login", []string{"--from", filepath.Join(dir, "tls only.json")}, true},
		{"report with a login", []string{"--from", filepath.Join(dir, "login.json")}, false},
	} {
		out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
		args := append([]string{"profile", "alice@example.test", "--name", "Alice", "--format", "thunderbird,outlook,android,sheet", "--out", out}, tc.args...)
		if code, _, stderr := runMain(t, args...); code != exitOK {
			t.Fatalf("%s: exit %d\n%s", tc.name, code, stderr)
		}
		for file, data := range readTree(t, out) {
			if strings.HasSuffix(file, ".png") || strings.HasSuffix(file, ".reg") || strings.HasSuffix(file, "qr.txt") || strings.HasSuffix(file, ".html") {
				continue // no room for notes (the .reg is UTF-16, the sheet's HTML has the .txt's words)
			}
			if got := strings.Contains(string(data), note); got != tc.want {
				t.Errorf("%s: %s says %q: %v, want %v", tc.name, file, note, got, tc.want)
			}
		}
	}
}

// What a file cannot promise in its client (profiles.Caveats) is told with
// the one notice wording, once per problem: for a STARTTLS-only provider the
// .prf and the Apple profile each get their remedy.
func TestCaveatsAreToldOnce(t *testing.T) {
	dir := t.TempDir()
	settings := filepath.Join(dir, "settings.xml")
	xml := strings.NewReplacer("<port>993</port>", "<port>143</port>", "<port>465</port>", "<port>587</port>",
		"<socketType>SSL</socketType>", "<socketType>STARTTLS</socketType>").Replace(settingsXML("imap.example.test"))
	writeFile(t, settings, xml)
	code, _, stderr := runMain(t, "profile", "alice@example.test", "--name", "Alice", "--settings", settings,
		"--format", "outlook,apple", "--autodiscover-path", `C:\mail\autodiscover.xml`, "--out", filepath.Join(dir, "out"))
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if strings.Count(stderr, "warning: outlook/outlook.prf: Outlook may not take STARTTLS") != 1 {
		t.Errorf("want the .prf's STARTTLS caveat once in:\n%s", stderr)
	}
	// Once per server, the IMAP and the SMTP one, and no hand-written copy.
	if n := strings.Count(stderr, "warning: apple/alice@example.test.mobileconfig: the provider offers no encrypted-from-the-start port"); n != 2 ||
		strings.Count(stderr, "mobileconfig") != 2 {
		t.Errorf("want the Apple profile's STARTTLS caveat once per server in:\n%s", stderr)
	}
}

// An address beyond Latin-1 leaves out only user.js (Thunderbird reads it
// as bytes); the isp/ file is written, and the warning names the one file,
// in profile and in the wizard.
func TestOnlyUserJSLeftOutForAnAddressBeyondLatin1(t *testing.T) {
	const address = "ирина@example.test"
	dir := t.TempDir()
	proven := func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error) {
		rep := reportWith("imap.example.test")
		rep.Email = address
		return rep, nil
	}
	check := func(cmd string, code int, stderr, out string) {
		t.Helper()
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s", cmd, code, stderr)
		}
		if strings.Contains(stderr, "no thunderbird files were written") || !strings.Contains(stderr, "thunderbird/user.js was not written") {
			t.Errorf("%s: want a warning about user.js alone:\n%s", cmd, stderr)
		}
		files := readTree(t, out)
		if _, ok := files["thunderbird/isp/example.test.xml"]; !ok {
			t.Errorf("%s: the isp/ file is missing: %v", cmd, files)
		}
		if _, ok := files["thunderbird/user.js"]; ok {
			t.Errorf("%s: user.js was written", cmd)
		}
	}
	settings := filepath.Join(dir, "settings.xml")
	writeFile(t, settings, settingsXML("imap.example.test"))
	out := filepath.Join(dir, "profile")
	code, _, stderr := runMain(t, "profile", address, "--name", "Ирина", "--settings", settings, "--format", "thunderbird,sheet", "--out", out)
	check("profile", code, stderr, out)

	out = filepath.Join(dir, "wizard")
	code, _, stderr = wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "demo"), Probe: proven,
		Address: address, Name: "Ирина", Formats: "thunderbird", Out: out, Yes: true}, nil)
	check("wizard", code, stderr, out)
}

// The wizard hands --username to the prober too, so it is tried first.
func TestWizardUsernameReachesTheProber(t *testing.T) {
	sc := catalogued(t, "username-localpart")
	var known string
	recording := func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error) {
		known = opts.Username
		return probe.Run(ctx, opts, input)
	}
	code, _, stderr := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, []byte(sc.Password), "username-localpart"), Probe: recording,
		Address: sc.Address, Name: "Alice", Formats: "sheet", Out: filepath.Join(t.TempDir(), "out"), Yes: true,
		answerFlags: answerFlags{Username: "alice"}}, nil)
	if code != exitOK {
		t.Fatalf("wizard: exit %d\n%s", code, stderr)
	}
	if known != "alice" {
		t.Errorf("the prober was given the login name %q, want %q from --username", known, "alice")
	}
}

// --services mail keeps calendars and contacts out of the probe as well as
// out of the files: nothing is looked up that the files will not use.
func TestServicesMailSkipsCalendarDiscovery(t *testing.T) {
	sc := catalogued(t, "calendar-contacts")
	for _, tc := range []struct {
		services string
		skip     bool
	}{{"mail", true}, {"mail,calendar", false}, {"", false}} {
		var skipped bool
		recording := func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error) {
			skipped = opts.SkipDAV
			return probe.Run(ctx, opts, input)
		}
		network := sandboxNetwork(t, nil, "calendar-contacts")
		args := []string{sc.Address, "--name", "Alice", "--format", "sheet", "--out", filepath.Join(t.TempDir(), "out")}
		if tc.services != "" {
			args = append(args, "--services", tc.services)
		}
		code, _, stderr := runCommand(t, func(f *Factory) *cobra.Command {
			return newCmdProfile(f, func(o *profileOptions) error {
				o.Network, o.Probe = network, recording
				return runProfile(context.Background(), o)
			})
		}, "", args...)
		if code != exitOK || skipped != tc.skip {
			t.Errorf("--services %q: exit %d, SkipDAV %v, want %v\n%s", tc.services, code, skipped, tc.skip, stderr)
		}
	}
}
