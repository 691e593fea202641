package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/sandbox"
)

func TestSandboxFlags(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantCode int
		check    func(*sandboxOptions) bool
	}{
		{[]string{"sandbox"}, exitOK, func(o *sandboxOptions) bool { return o.Scenarios == nil && !o.List }},
		{[]string{"sandbox", "demo", "pop3-only", "--latency", "50ms"}, exitOK, func(o *sandboxOptions) bool {
			return len(o.Scenarios) == 2 && o.Latency == 50*time.Millisecond
		}},
		{[]string{"sandbox", "--list"}, exitOK, func(o *sandboxOptions) bool { return o.List }},
		{[]string{"sandbox", "--bind-real", "--ca-file", "x.pem"}, exitOK, func(o *sandboxOptions) bool { return o.BindReal && o.CAFile == "x.pem" }},
		{[]string{"sandbox", "--list", "demo"}, exitUsage, nil},
		{[]string{"sandbox", "--latency", "-1s"}, exitUsage, nil},
	} {
		ios, _, _, _ := iostreams.Test()
		var got *sandboxOptions
		root := newRootCmd(&Factory{IO: ios})
		for _, c := range root.Commands() {
			if c.Name() == "sandbox" {
				root.RemoveCommand(c)
			}
		}
		root.AddCommand(newCmdSandbox(&Factory{IO: ios}, func(o *sandboxOptions) error { got = o; return nil }))
		root.SetArgs(tc.args)
		err := root.Execute()
		if code := exitCodeOf(err); code != tc.wantCode {
			t.Errorf("%v: exit %d (%v), want %d", tc.args, code, err, tc.wantCode)
			continue
		}
		if tc.check != nil && (got == nil || !tc.check(got)) {
			t.Errorf("%v: options %+v", tc.args, got)
		}
	}
}

func TestSandboxList(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	if code := Main(ios, []string{"sandbox", "--list"}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	names := strings.Split(strings.TrimSpace(out.String()), "\n")
	cat := sandbox.Catalogue()
	if len(names) != len(cat) || names[0] != cat[0].Name {
		t.Errorf("--list printed %q", names)
	}
	ios, _, out, _ = iostreams.Test()
	if code := Main(ios, []string{"sandbox", "--list", "--json"}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var list struct {
		SchemaVersion int `json:"schema_version"`
		Scenarios     []struct {
			Name         string `json:"name"`
			Password     string `json:"password"`
			CriticalPath int    `json:"critical_path"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(out.Bytes(), &list); err != nil || list.SchemaVersion != 1 || len(list.Scenarios) != len(cat) ||
		list.Scenarios[0].CriticalPath == 0 || list.Scenarios[0].Password != cat[0].Password {
		t.Errorf("--list --json: %v, %+v", err, list)
	}
}

func TestSandboxUnknownScenario(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	if code := Main(ios, []string{"sandbox", "no-such-world"}); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(errOut.String(), `"no-such-world"`) || !strings.Contains(errOut.String(), "--list") {
		t.Errorf("error %q should quote the name and point at --list", errOut.String())
	}
}

// TestSandboxRuns starts a world through the command and asks its DNS
// server, at the printed address, while it runs.
func TestSandboxRuns(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	var dnsAddr string
	opts := &sandboxOptions{IO: ios, JSON: true, Scenarios: []string{"demo"}, CAFile: caPath,
		wait: func(ctx context.Context, w *sandbox.World) error {
			var info sandboxInfo
			if err := json.Unmarshal(out.Bytes(), &info); err != nil {
				t.Fatalf("JSON banner: %v", err)
			}
			dnsAddr = info.DNSServer
			if info.CAFile != caPath || len(info.Accounts) != 1 || info.Accounts[0].Address != "alice@demo.test" ||
				info.Accounts[0].Password == "" {
				t.Errorf("banner %+v", info)
			}
			m := new(dns.Msg)
			m.SetQuestion("_imaps._tcp.demo.test.", dns.TypeSRV)
			r, err := dns.Exchange(m, info.DNSServer)
			if err != nil || len(r.Answer) != 1 {
				t.Errorf("DNS at the printed address: %v, %v", r, err)
			}
			return nil
		}}
	if err := runSandbox(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if dnsAddr == "" {
		t.Fatal("the world never ran")
	}
	pem, err := os.ReadFile(caPath)
	if err != nil || !x509.NewCertPool().AppendCertsFromPEM(pem) {
		t.Errorf("CA file: %v", err)
	}

	// The human banner names the DNS server, the CA file and the accounts;
	// a temporary CA file is removed on exit.
	ios, _, out, _ = iostreams.Test()
	var tempCA string
	opts = &sandboxOptions{IO: ios, Scenarios: []string{"demo", "pop3-only"},
		wait: func(ctx context.Context, w *sandbox.World) error {
			for _, line := range strings.Split(out.String(), "\n") {
				if rest, ok := strings.CutPrefix(line, "CA file:"); ok {
					tempCA = strings.TrimSpace(rest)
				}
			}
			if _, err := os.Stat(tempCA); err != nil {
				t.Errorf("temporary CA file while running: %v", err)
			}
			return nil
		}}
	if err := runSandbox(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DNS server: 127.0.0.1:", "alice@demo.test", "alice@pop3-only.test", "--sandbox demo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(tempCA); !os.IsNotExist(err) {
		t.Errorf("temporary CA file %q left behind: %v", tempCA, err)
	}
}

// Unprivileged, the printout says plainly that only the DNS server is
// reachable from other programs, and how to reach the hosts; one scenario
// is one, not "1 scenarios".
func TestSandboxPrintoutWithoutRealPorts(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	opts := &sandboxOptions{IO: ios, Scenarios: []string{"demo"}, CAFile: filepath.Join(t.TempDir(), "ca.pem"),
		wait: func(context.Context, *sandbox.World) error { return nil }}
	if err := runSandbox(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"1 scenario runs on loopback", "NOT reachable from other programs", "--sandbox demo --password-stdin", "--bind-real"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printout lacks %q:\n%s", want, text)
		}
	}
}
