package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/probe"
)

// runCLI runs mailsetup with args on test streams.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	code = Main(ios, args)
	forPeople(t, args, errOut.String())
	return code, out.String(), errOut.String()
}

func TestProbeSandboxJSONFollowsTheSchema(t *testing.T) {
	t.Setenv(passwordEnv, "")
	os.Unsetenv(passwordEnv)
	code, out, errOut := runCLI(t, "", "probe", "--sandbox", "demo", "--json")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %q", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"schema_version", "email", "domain", "status", "recommendation", "servers", "lookups", "disagreements", "warnings", "elapsed_ms"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("top level lacks %q", k)
		}
	}
	if doc["schema_version"] != float64(probe.SchemaVersion) || doc["email"] != "alice@demo.test" || doc["domain"] != "demo.test" {
		t.Errorf("header = %v %v %v", doc["schema_version"], doc["email"], doc["domain"])
	}
	rec := doc["recommendation"].(map[string]any)
	for _, k := range []string{"protocol", "reason", "confidence", "incoming", "outgoing", "alternatives"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("recommendation lacks %q", k)
		}
	}
	for _, end := range []string{"incoming", "outgoing"} {
		e := rec[end].(map[string]any)
		for _, k := range []string{"protocol", "host", "port", "security", "username", "auth"} {
			if _, ok := e[k]; !ok {
				t.Errorf("%s lacks %q", end, k)
			}
		}
	}
	if in := rec["incoming"].(map[string]any); in["security"] != "tls" || in["port"] != float64(993) {
		t.Errorf("incoming = %v", in)
	}
	servers := doc["servers"].([]any)
	if len(servers) == 0 {
		t.Fatal("no servers")
	}
	s := servers[0].(map[string]any)
	for _, k := range []string{"protocol", "host", "port", "security", "sources", "reachable", "tls", "capabilities", "auth_mechanisms", "login"} {
		if _, ok := s[k]; !ok {
			t.Errorf("server lacks %q", k)
		}
	}
	if tls := s["tls"].(map[string]any); tls["valid"] != true {
		t.Errorf("tls = %v", tls)
	} else if _, ok := tls["error"]; !ok {
		t.Errorf("tls lacks error")
	}
	l := doc["lookups"].([]any)[0].(map[string]any)
	for _, k := range []string{"method", "target", "status", "error", "elapsed_ms"} {
		if _, ok := l[k]; !ok {
			t.Errorf("lookup lacks %q", k)
		}
	}
	if errOut != "" {
		t.Errorf("stderr is not a terminal, yet got %q", errOut)
	}
}

func TestProbeExitCodes(t *testing.T) {
	tests := []struct {
		scenario string
		password string
		want     int
		says     string
	}{
		{"demo", "", exitOK, "Recommended: IMAP"},
		{"pop3-only", "", exitOK, "Recommended: POP3"},
		{"nothing", "", exitNothingFound, "Nothing works"},
		{"plaintext-only", "", exitInsecureOnly, "--allow-plaintext"},
		{"demo", "wrong-password", exitLoginRejected, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.scenario+tt.password, func(t *testing.T) {
			if tt.password != "" {
				t.Setenv(passwordEnv, tt.password)
			}
			code, out, errOut := runCLI(t, "", "probe", "--sandbox", tt.scenario, "--timeout", "5s")
			if code != tt.want {
				t.Errorf("exit %d, want %d; stderr %q\n%s", code, tt.want, errOut, out)
			}
			if !strings.Contains(out, tt.says) {
				t.Errorf("output does not say %q:\n%s", tt.says, out)
			}
		})
	}
}

func TestProbePasswordSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	os.WriteFile(file, []byte("from-file\nsecond line\n"), 0o600)
	tests := []struct {
		name  string
		stdin string
		env   string
		args  []string
		want  string
		code  int
	}{
		{name: "stdin", stdin: "from-stdin\r\n", args: []string{"--password-stdin"}, want: "from-stdin"},
		{name: "file", args: []string{"--password-file", file}, want: "from-file"},
		{name: "env", env: "from-env", want: "from-env"},
		{name: "flag beats env", env: "from-env", args: []string{"--password-file", file}, want: "from-file"},
		{name: "none", want: ""},
		{name: "both flags", stdin: "x\n", args: []string{"--password-stdin", "--password-file", file}, code: exitUsage},
		{name: "empty stdin", args: []string{"--password-stdin"}, code: exitUsage},
		{name: "missing file", args: []string{"--password-file", filepath.Join(dir, "nope")}, code: exitFailure},
		{name: "a flag value is no password", args: []string{"--password", "secret"}, code: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(passwordEnv, tt.env)
			if tt.env == "" {
				os.Unsetenv(passwordEnv)
			}
			ios, in, _, errOut := iostreams.Test()
			in.WriteString(tt.stdin)
			var got *probe.Options
			cmd := newCmdProbe(&Factory{IO: ios}, func(o *probeOptions) error {
				popts, release, err := o.Network(t.Context())
				if err != nil {
					return err
				}
				defer release()
				got = &popts
				return nil
			})
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			cmd.SetArgs(append([]string{"alice@example.test"}, tt.args...))
			cmd.SetIn(in)
			cmd.SetErr(errOut)
			cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError("%v", err) })
			err := cmd.Execute()
			if code := exitCodeOf(err); code != tt.code {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.code)
			}
			if tt.code != exitOK {
				return
			}
			if string(got.Password) != tt.want || (tt.want == "") != (got.Password == nil) {
				t.Errorf("password = %q, want %q", got.Password, tt.want)
			}
		})
	}
}

func TestProbeFlagsReachTheOptions(t *testing.T) {
	pin := strings.Repeat("AB:", 31) + "CD"
	ios, _, _, _ := iostreams.Test()
	var got *probeOptions
	cmd := newCmdProbe(&Factory{IO: ios}, func(o *probeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--sandbox", "starttls-only", "--private", "--timeout", "7s", "--trust-cert", pin, "--allow-plaintext"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.SandboxAddress != "alice@starttls-only.test" || got.Input != "" {
		t.Errorf("input %q, sandbox address %q", got.Input, got.SandboxAddress)
	}
	popts, release, err := got.Network(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if popts.Timeout.Seconds() != 7 || !popts.Private || popts.ISPDBURL != "" || !popts.AllowPlaintext ||
		!slices.Equal(popts.TrustCertSHA256, []string{pin}) || popts.Env.Resolver == nil {
		t.Errorf("options = %+v", popts)
	}
	if popts.Password != nil {
		t.Errorf("--sandbox took the scenario's password %q although none was given", popts.Password)
	}
}

func TestProbeUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"probe"},
		{"probe", "not an address"},
		{"probe", "--sandbox", "no-such-scenario"},
		{"probe", "alice@example.test", "--sandbox", "demo", "--dns-server", "127.0.0.1:53"},
		{"probe", "alice@example.test", "--dns-server", "no such host"},
		{"probe", "alice@example.test", "--trust-cert", "abc"},
		{"probe", "alice@example.test", "--trust-host", "imap.example.test,smtp.example.test"},
		{"probe", "alice@example.test", "--trust-host", "bad..host"},
		{"probe", "alice@example.test", "--ispdb-url", "not a url"},
		{"probe", "alice@example.test", "--ispdb-url", "http://ispdb.example.test/"},
	} {
		code, out, errOut := runCLI(t, "", args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d; %s%s", args, code, exitUsage, out, errOut)
		}
		if strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.HasPrefix(errOut, "mailsetup: ") {
			t.Errorf("%q: the error is not one line: %q", args, errOut)
		}
	}
}

// TestProbeProgressIsOneLineOnATerminal: on a terminal the progress is one
// status line rewritten in place and erased before the report; piped, or
// with stderr not a terminal, there is none.
func TestProbeProgressIsOneLineOnATerminal(t *testing.T) {
	for _, tty := range []bool{true, false} {
		ios, _, out, errOut := iostreams.Test()
		ios.SetTTY(false, false, tty)
		if code := Main(ios, []string{"probe", "--sandbox", "demo"}); code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		progress := errOut.String()
		switch {
		case !tty && progress != "":
			t.Errorf("progress without a terminal: %q", progress)
		case tty && (!strings.Contains(progress, "\r") || !strings.Contains(progress, "servers found")):
			t.Errorf("no status line on a terminal's stderr: %q", progress)
		case tty && strings.Contains(progress, "\n"):
			t.Errorf("the status line scrolls: %q", progress)
		case tty && !strings.HasSuffix(progress, "\r\x1b[K"):
			t.Errorf("the status line is not erased before the report: %q", progress)
		}
		if strings.Contains(out.String(), "servers found,") {
			t.Errorf("progress went to stdout")
		}
	}
}

func TestStatusLine(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	off := newStatusLine(ios, "")
	if off != nil || off.progress() != nil {
		t.Fatal("a status line without a terminal")
	}
	off.clear() // nil-safe
	ios.SetTTY(false, false, true)
	l := newStatusLine(ios, "Looking up alice@example.test: ")
	long := autoconfig.Server{Protocol: autoconfig.IMAP, Hostname: strings.Repeat("very-long-label.", 8) + "test", Port: 993}
	// A server named by two sources is one server found.
	for _, e := range []probe.Event{{Kind: probe.EventLookup}, {Kind: probe.EventFound, Server: long}, {Kind: probe.EventFound, Server: long}, {Kind: probe.EventChecked, Server: long}} {
		l.progress()(e)
	}
	got := errOut.String()
	for _, line := range strings.Split(got, "\r") {
		line = strings.TrimSuffix(line, "\x1b[K")
		if n := len([]rune(line)); n > statusWidth {
			t.Errorf("status line of %d columns would wrap: %q", n, line)
		}
	}
	if !strings.Contains(got, "\rLooking up alice@example.test: 1 lookup, 1 server found, 1 checked; checked v") {
		t.Errorf("status line: %q", got)
	}
	l.clear()
	if !strings.HasSuffix(errOut.String(), "\r\x1b[K") {
		t.Errorf("clear did not erase the line: %q", errOut)
	}
}

func TestProbeSandboxOnlyItsDomains(t *testing.T) {
	code, out, errOut := runCLI(t, "", "probe", "bob@example.com", "--sandbox", "demo")
	want := "mailsetup: --sandbox demo simulates only demo.test: probe an address at demo.test, or leave out --sandbox\n"
	if code != exitUsage || errOut != want || out != "" {
		t.Errorf("exit %d, stderr %q, stdout %q; want exit %d and %q", code, errOut, out, exitUsage, want)
	}
	if code, _, errOut := runCLI(t, "", "probe", "DEMO.test", "--sandbox", "demo"); code != exitOK {
		t.Errorf("the scenario's own domain: exit %d: %s", code, errOut)
	}
}

func TestDemo(t *testing.T) {
	code, out, errOut := runCLI(t, "", "demo", "--out", t.TempDir())
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"alice@demo.test", "Recommended: IMAP", "IMAP  imap.demo.test:993  SSL/TLS  user alice@demo.test", "password was accepted"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

// TestProbeWithDNSServerOnRealPorts runs the command as a user would
// against servers on their real ports: the sandbox binds them on its 127.x
// addresses, and only --dns-server and --ca-file point the probe there.
func TestProbeWithDNSServerOnRealPorts(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("skipped: binding the real ports on 127.x addresses needs root on Linux")
	}
	w, err := sandbox.Start(context.Background(), sandbox.Options{BindReal: true, Scenarios: []string{"srv-only"}})
	if err != nil {
		if strings.Contains(err.Error(), "address already in use") {
			t.Skipf("skipped: another real-port sandbox is running: %v", err)
		}
		t.Fatal(err)
	}
	defer w.Close()
	sc := w.Scenarios()[0]
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, w.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(passwordEnv, sc.Password)
	code, out, errOut := runCLI(t, "", "probe", sc.Address, "--json", "--dns-server", w.DNSServer(), "--ca-file", ca,
		"--ispdb-url", w.ISPDBURL(), "--timeout", "10s")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	var rep probe.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rec := rep.Recommendation; rec == nil || rec.Incoming.Host != sc.Expect.Incoming.Hostname || rec.Confidence != probe.ConfidenceLogin {
		t.Errorf("recommendation = %+v", rec)
	}
}

func TestDNSServerTakesPort53ByDefault(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.1": "127.0.0.1:53", "127.0.0.1:5353": "127.0.0.1:5353", "::1": "[::1]:53", "[::1]": "[::1]:53", "ns.example.test": "ns.example.test:53"} {
		if got, err := dnsServerAddress(in); got != want || err != nil {
			t.Errorf("dnsServerAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if err := checkTrustCerts([]string{strings.Repeat("AB:", 31) + "AB"}); err != nil {
		t.Errorf("a fingerprint with colons was refused: %v", err)
	}
}
