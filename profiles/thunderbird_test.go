package profiles

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// writeTemp writes data to dir/name and returns the path.
func writeTemp(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func ispPath(tc testCase, t testing.TB) string {
	return "thunderbird/isp/" + ThunderbirdISPFileName(tc.account(t).Address.Domain)
}

// The isp/ file validates against the draft's RELAX NG schema and reads back
// through our own reader to the settings it was written from.
func TestThunderbirdISPValidAndReadsBack(t *testing.T) {
	xmllint := needTool(t, "xmllint")
	schema := sharedPath(t, "reference/autoconfig-spec/autoconfig.rng")
	dir := t.TempDir()
	for _, tc := range testCases {
		acct := tc.account(t)
		data := fileData(t, tc.render(t), ispPath(tc, t))
		file := writeTemp(t, dir, tc.name+".xml", data)
		out, err := exec.Command(xmllint, "--noout", "--relaxng", schema, file).CombinedOutput()
		if err != nil {
			t.Errorf("%s: xmllint --relaxng: %v\n%s", tc.name, err, out)
		}
		got, diags, err := autoconfig.ReadConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: read back: %v", tc.name, err)
		}
		for _, d := range diags {
			if d.Severity == autoconfig.Error {
				t.Errorf("%s: read back: %s", tc.name, d)
			}
		}
		if !reflect.DeepEqual(stripLines(got.Incoming), stripLines(acct.Provider.Incoming)) ||
			!reflect.DeepEqual(stripLines(got.Outgoing), stripLines(acct.Provider.Outgoing)) ||
			!reflect.DeepEqual(got.Domains, acct.Provider.Domains) {
			t.Errorf("%s: read back\n got %+v %+v\nwant %+v %+v", tc.name, got.Incoming, got.Outgoing,
				acct.Provider.Incoming, acct.Provider.Outgoing)
		}
		if rep := autoconfig.Lint(bytes.NewReader(data)); rep.HasErrors() {
			t.Errorf("%s: lint finds errors: %+v", tc.name, rep.Findings)
		}
	}
}

func stripLines(ss []autoconfig.Server) []autoconfig.Server {
	out := make([]autoconfig.Server, len(ss))
	for i, s := range ss {
		s.Line = 0
		out[i] = s
	}
	return out
}

// The Autodiscover file reads back through our reader with SPA off, SSL and
// Encryption in agreement, POP3 spelled as Outlook wants, and exactly the
// account's servers.
func TestOutlookAutodiscoverReadsBack(t *testing.T) {
	for _, tc := range testCases {
		acct := tc.account(t)
		data := fileData(t, tc.render(t), "outlook/autodiscover.xml")
		r, err := autoconfig.ReadAutodiscoverResponse(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.DisplayName != tc.display {
			t.Errorf("%s: display name %q", tc.name, r.DisplayName)
		}
		want := []autoconfig.Server{acct.In(), acct.Out()}
		if len(r.Protocols) != 2 {
			t.Fatalf("%s: %d protocols, want 2", tc.name, len(r.Protocols))
		}
		for i, p := range r.Protocols {
			w := want[i]
			if p.SPA {
				t.Errorf("%s: %s has SPA on", tc.name, p.Type)
			}
			if p.Type != strings.ToUpper(string(w.Protocol)) || p.Server != w.Hostname || p.Port != w.Port ||
				p.LoginName != w.Username || p.Security() != w.Security {
				t.Errorf("%s: protocol %d = %+v, want %+v", tc.name, i, p, w)
			}
			if p.SSL != (w.Security != autoconfig.SecurityPlain) {
				t.Errorf("%s: SSL=%v for %s", tc.name, p.SSL, w.Security)
			}
		}
		if rep := autoconfig.Lint(bytes.NewReader(data)); rep.HasErrors() {
			t.Errorf("%s: lint finds errors: %+v", tc.name, rep.Findings)
		}
	}
}

// thunderbirdJudge returns the directory of ../shared/tools/thunderbird, or
// skips unless MAILSETUP_THUNDERBIRD=1 (each run starts the real Thunderbird,
// a few seconds each).
func thunderbirdJudge(t *testing.T) string {
	t.Helper()
	if os.Getenv("MAILSETUP_THUNDERBIRD") != "1" {
		if os.Getenv("MAILSETUP_REQUIRE_SHARED") == "1" {
			t.Fatal("MAILSETUP_REQUIRE_SHARED=1 needs the real-Thunderbird checks: set MAILSETUP_THUNDERBIRD=1")
		}
		t.Skip("skipped: set MAILSETUP_THUNDERBIRD=1 to check the files with the real Thunderbird (../shared/tools/thunderbird)")
	}
	dir := sharedPath(t, "tools/thunderbird")
	needTool(t, "thunderbird")
	return dir
}

// python is Debian's interpreter, as the Thunderbird tools ask for (a pyenv
// shim costs a third of a second per run), or any python3.
func python(t *testing.T) string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return needTool(t, "python3")
}

// tbServer is a server as the Thunderbird tools print it.
type tbServer struct {
	Type       string `json:"type"`
	Hostname   string `json:"hostname"`
	Port       int    `json:"port"`
	SocketType int    `json:"socketType"`
	Auth       int    `json:"auth"`
	Username   string `json:"username"`
}

type tbResult struct {
	Input    string `json:"input"`
	Accepted bool   `json:"accepted"`
	Error    any    `json:"error"`
	Config   struct {
		Incoming             tbServer   `json:"incoming"`
		IncomingAlternatives []tbServer `json:"incomingAlternatives"`
		Outgoing             tbServer   `json:"outgoing"`
		OutgoingAlternatives []tbServer `json:"outgoingAlternatives"`
	} `json:"config"`
}

func runBatch(t *testing.T, tool string, args ...string) map[string]tbResult {
	t.Helper()
	cmd := exec.Command(python(t), append([]string{tool, "--batch", "--compact", "--timeout", "240"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("%s: %v\n%s", filepath.Base(tool), err, stderr.String())
	}
	results := map[string]tbResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var r tbResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s printed %q: %v", filepath.Base(tool), sc.Text(), err)
		}
		results[r.Input] = r
	}
	return results
}

func tbWant(s autoconfig.Server) tbServer {
	auth, _ := tbAuth(s)
	return tbServer{Type: string(s.Protocol), Hostname: s.Hostname, Port: s.Port,
		SocketType: tbSocketType[s.Security], Auth: auth, Username: s.Username}
}

// The real Thunderbird accepts every isp/ file, over HTTP (the ISPDB code
// path) and from disk (the isp/ folder code path), with the same servers in
// the same order; and reads every Autodiscover file to the account's servers.
func TestThunderbirdAcceptsFiles(t *testing.T) {
	judge := thunderbirdJudge(t)
	dir := t.TempDir()
	var ispFiles, poxFiles []string
	wantISP := map[string]testCase{}
	wantPOX := map[string]testCase{}
	for _, tc := range testCases {
		files := tc.render(t)
		p := writeTemp(t, dir, tc.name+"-isp.xml", fileData(t, files, ispPath(tc, t)))
		ispFiles = append(ispFiles, p)
		wantISP[p] = tc
		p = writeTemp(t, dir, tc.name+"-pox.xml", fileData(t, files, "outlook/autodiscover.xml"))
		poxFiles = append(poxFiles, p)
		wantPOX[p] = tc
	}
	for _, mode := range []string{"http", "disk"} {
		results := runBatch(t, filepath.Join(judge, "tb-parse-autoconfig"), append([]string{"--mode", mode}, ispFiles...)...)
		for _, file := range ispFiles {
			tc := wantISP[file]
			r, ok := results[file]
			if !ok || !r.Accepted {
				t.Errorf("%s (%s): Thunderbird did not accept the isp/ file: %+v", tc.name, mode, r.Error)
				continue
			}
			// The tool fills the placeholders for testuser@ the first domain.
			addr, _ := autoconfig.ParseAddress("testuser@" + tc.account(t).Provider.Domains[0])
			acct := tc.account(t)
			acct.Address = addr
			var wantIn, wantOut []tbServer
			for _, s := range acct.Provider.Incoming {
				wantIn = append(wantIn, tbWant(acct.expanded(s)))
			}
			for _, s := range acct.Provider.Outgoing {
				wantOut = append(wantOut, tbWant(acct.expanded(s)))
			}
			gotIn := append([]tbServer{r.Config.Incoming}, r.Config.IncomingAlternatives...)
			gotOut := append([]tbServer{r.Config.Outgoing}, r.Config.OutgoingAlternatives...)
			// Thunderbird's replaceVariables() fills placeholders in
			// outgoing alternatives only once one is chosen: compare their
			// username templates instead.
			for i := 1; i < len(gotOut) && i < len(wantOut); i++ {
				wantOut[i].Username = acct.Provider.Outgoing[i].Username
			}
			if !reflect.DeepEqual(gotIn, wantIn) || !reflect.DeepEqual(gotOut, wantOut) {
				t.Errorf("%s (%s): Thunderbird read\n in  %+v\n out %+v\nwant\n in  %+v\n out %+v",
					tc.name, mode, gotIn, gotOut, wantIn, wantOut)
			}
		}
	}
	results := runBatch(t, filepath.Join(judge, "tb-parse-autodiscover"), append([]string{"--email", "testuser@example.test"}, poxFiles...)...)
	for _, file := range poxFiles {
		tc := wantPOX[file]
		r, ok := results[file]
		if !ok || !r.Accepted {
			t.Errorf("%s: Thunderbird did not accept the Autodiscover file: %+v", tc.name, r.Error)
			continue
		}
		acct := tc.account(t)
		// POX names no password method beyond SPA: with SPA off every
		// reader, Thunderbird too, sends the password over TLS.
		wantIn, wantOut := tbWant(acct.In()), tbWant(acct.Out())
		wantIn.Auth = tbAuthMethod[autoconfig.AuthPasswordCleartext]
		wantOut.Auth = tbAuthMethod[autoconfig.AuthPasswordCleartext]
		if got := r.Config.Incoming; got != wantIn {
			t.Errorf("%s: Autodiscover incoming %+v, want %+v", tc.name, got, wantIn)
		}
		if got := r.Config.Outgoing; got != wantOut {
			t.Errorf("%s: Autodiscover outgoing %+v, want %+v", tc.name, got, wantOut)
		}
	}
}

// tbAccount is what testdata/tb-read-account.py reads back from Thunderbird.
type tbAccount struct {
	Key         string `json:"key"`
	Type        string `json:"type"`
	Hostname    string `json:"hostname"`
	Port        int    `json:"port"`
	SocketType  int    `json:"socketType"`
	AuthMethod  int    `json:"authMethod"`
	Username    string `json:"username"`
	PrettyName  string `json:"prettyName"`
	LeaveOnSrv  *bool  `json:"leaveOnServer"`
	DaysToLeave int    `json:"daysToLeave"`
	Identities  []struct {
		FullName      string `json:"fullName"`
		Email         string `json:"email"`
		SMTPServerKey string `json:"smtpServerKey"`
		Valid         bool   `json:"valid"`
		Outgoing      *struct {
			Key        string `json:"key"`
			Hostname   string `json:"hostname"`
			Port       int    `json:"port"`
			SocketType int    `json:"socketType"`
			AuthMethod int    `json:"authMethod"`
			Username   string `json:"username"`
		} `json:"outgoing"`
	} `json:"identities"`
}

// Thunderbird, started on a new profile holding only our user.js, has the
// whole account: server, identity, and the identity's own SMTP server.
func TestThunderbirdLoadsUserJS(t *testing.T) {
	judge := thunderbirdJudge(t)
	dir := t.TempDir()
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			acct := tc.account(t)
			userJS := writeTemp(t, dir, tc.name+"-user.js", fileData(t, tc.render(t), "thunderbird/user.js"))
			cmd := exec.Command(python(t), filepath.Join("testdata", "tb-read-account.py"), filepath.Join(judge, "lib"), userJS)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("tb-read-account.py: %v\n%s", err, stderr.String())
			}
			var got struct {
				Accounts       []tbAccount `json:"accounts"`
				DefaultAccount string      `json:"defaultAccount"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if len(got.Accounts) != 1 || got.DefaultAccount != tbAccountKey {
				t.Fatalf("Thunderbird has accounts %+v (default %q), want exactly %s", got.Accounts, got.DefaultAccount, tbAccountKey)
			}
			a := got.Accounts[0]
			in, out2 := tbWant(acct.In()), tbWant(acct.Out())
			if a.Type != in.Type || a.Hostname != in.Hostname || a.Port != in.Port || a.SocketType != in.SocketType ||
				a.AuthMethod != in.Auth || a.Username != in.Username {
				t.Errorf("incoming server %+v, want %+v", a, in)
			}
			if acct.Incoming.Protocol == autoconfig.POP3 && (a.LeaveOnSrv == nil || !*a.LeaveOnSrv) {
				t.Errorf("POP3 account does not leave messages on the server: %+v", a)
			}
			if len(a.Identities) != 1 {
				t.Fatalf("identities %+v", a.Identities)
			}
			id := a.Identities[0]
			if id.FullName != tc.display || id.Email != acct.Address.ASCII() || !id.Valid {
				t.Errorf("identity %+v", id)
			}
			if id.SMTPServerKey != tbSMTPKey || id.Outgoing == nil {
				t.Fatalf("the identity does not name its own SMTP server: %+v", id)
			}
			o := id.Outgoing
			if o.Key != tbSMTPKey || o.Hostname != out2.Hostname || o.Port != out2.Port ||
				o.SocketType != out2.SocketType || o.AuthMethod != out2.Auth || o.Username != out2.Username {
				t.Errorf("outgoing server %+v, want %+v", *o, out2)
			}
		})
	}
}
