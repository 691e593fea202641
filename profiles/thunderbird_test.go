package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/tbjudge"
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

// The isp/ file validates against the draft's RELAX NG schema and reads back
// through our own reader to the settings it was written from.
func TestThunderbirdISPValidAndReadsBack(t *testing.T) {
	xmllint := needTool(t, "xmllint")
	schema := sharedPath(t, "reference/autoconfig-spec/autoconfig.rng")
	dir := t.TempDir()
	for _, tc := range subjects(t) {
		acct := tc.acct
		data := tc.file(t, tc.ispPath())
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
		want := thunderbirdISPProvider(acct)
		if !reflect.DeepEqual(stripLines(got.Incoming), stripLines(want.Incoming)) ||
			!reflect.DeepEqual(stripLines(got.Outgoing), stripLines(want.Outgoing)) ||
			!reflect.DeepEqual(got.Domains, want.Domains) {
			t.Errorf("%s: read back\n got %+v %+v\nwant %+v %+v", tc.name, got.Incoming, got.Outgoing,
				want.Incoming, want.Outgoing)
		}
		if got.Incoming[0].Protocol != acct.Incoming.Protocol {
			t.Errorf("%s: the isp/ file offers %s first, the account is %s", tc.name, got.Incoming[0].Protocol, acct.Incoming.Protocol)
		}
		for _, s := range got.Incoming {
			if s.Protocol == autoconfig.POP3 && (s.POP3 == nil || !s.POP3.LeaveMessagesOnServer || s.POP3.DaysToLeave != tbKeepDays) {
				t.Errorf("%s: POP3 server %s does not keep the mail: %+v", tc.name, s.Address(), s.POP3)
			}
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
	for _, tc := range subjects(t) {
		acct := tc.acct
		data := tc.file(t, "outlook/autodiscover.xml")
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

// thunderbirdJudge returns the directory of ../shared/tools/thunderbird;
// the test skips, saying why, unless MAILSETUP_THUNDERBIRD=1 (each check
// starts the real Thunderbird for a few seconds). With
// MAILSETUP_REQUIRE_SHARED=1 a missing ../shared or Thunderbird fails.
func thunderbirdJudge(t *testing.T) string {
	t.Helper()
	dir := tbjudge.Require(t)
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

// tbAuthNames are Thunderbird's nsMsgAuthMethod names for the first method.
var tbAuthNames = map[autoconfig.AuthMethod]string{
	autoconfig.AuthPasswordCleartext: "passwordCleartext",
	autoconfig.AuthPasswordEncrypted: "passwordEncrypted",
}

// sameServer reports how Thunderbird's server differs from ours, "" if not.
func sameServer(got tbjudge.Server, want autoconfig.Server, addr autoconfig.Address) string {
	if d := tbjudge.Same(got, want, addr); d != "" {
		return d
	}
	if w := tbAuthNames[want.PreferredAuth()]; got.AuthName != w {
		return "Thunderbird took authentication " + got.AuthName + ", we meant " + w
	}
	return ""
}

// The real Thunderbird accepts every isp/ file, over HTTP (the ISPDB code
// path) and from disk (the isp/ folder code path), with the same servers in
// the same order; and reads every Autodiscover file to the account's servers.
func TestThunderbirdAcceptsFiles(t *testing.T) {
	thunderbirdJudge(t)
	dir := t.TempDir()
	var ispFiles, poxFiles []string
	cases := map[string]subject{}
	for _, tc := range subjects(t) {
		p := writeTemp(t, dir, tc.name+"-isp.xml", tc.file(t, tc.ispPath()))
		ispFiles = append(ispFiles, p)
		cases[p] = tc
		p = writeTemp(t, dir, tc.name+"-pox.xml", tc.file(t, "outlook/autodiscover.xml"))
		poxFiles = append(poxFiles, p)
		cases[p] = tc
	}
	for _, mode := range []string{"http", "disk"} {
		for _, v := range tbjudge.ParseAutoconfig(t, mode, "", ispFiles...) {
			tc := cases[v.Input]
			if !v.Accepted {
				t.Errorf("%s (%s): Thunderbird rejected the isp/ file: %s", tc.name, mode, v.Error)
				continue
			}
			// Without an address the tool uses testuser@ the first domain.
			acct := tc.acct
			addr, _ := autoconfig.ParseAddress("testuser@" + acct.Provider.Domains[0])
			gotIn := append([]tbjudge.Server{v.Config.Incoming}, v.Config.IncomingAlternatives...)
			gotOut := append([]tbjudge.Server{v.Config.Outgoing}, v.Config.OutgoingAlternatives...)
			if len(gotIn) != len(acct.Provider.Incoming) || len(gotOut) != len(acct.Provider.Outgoing) {
				t.Errorf("%s (%s): Thunderbird kept %d incoming and %d outgoing servers of %d and %d",
					tc.name, mode, len(gotIn), len(gotOut), len(acct.Provider.Incoming), len(acct.Provider.Outgoing))
				continue
			}
			for i, s := range acct.Provider.Incoming {
				if d := sameServer(gotIn[i], s, addr); d != "" {
					t.Errorf("%s (%s): incoming %d: %s", tc.name, mode, i, d)
				}
			}
			for i, s := range acct.Provider.Outgoing {
				if i > 0 {
					// Thunderbird's replaceVariables() leaves outgoing
					// alternatives' usernames as templates.
					if gotOut[i].Username != s.Username {
						t.Errorf("%s (%s): outgoing %d username %q, want %q", tc.name, mode, i, gotOut[i].Username, s.Username)
					}
					s.Username = ""
				}
				if d := sameServer(gotOut[i], s, addr); d != "" {
					t.Errorf("%s (%s): outgoing %d: %s", tc.name, mode, i, d)
				}
			}
		}
	}
	for _, v := range tbjudge.ParseAutodiscover(t, "testuser@example.test", poxFiles...) {
		tc := cases[v.Input]
		if !v.Accepted {
			t.Errorf("%s: Thunderbird rejected the Autodiscover file: %s", tc.name, v.Error)
			continue
		}
		acct := tc.acct
		// POX names no password method beyond SPA: with SPA off every
		// reader, Thunderbird too, sends the password over TLS.
		in, out := acct.In(), acct.Out()
		in.Auth = []autoconfig.AuthMethod{autoconfig.AuthPasswordCleartext}
		out.Auth = in.Auth
		if d := sameServer(v.Config.Incoming, in, acct.Address); d != "" {
			t.Errorf("%s: Autodiscover incoming: %s", tc.name, d)
		}
		if d := sameServer(v.Config.Outgoing, out, acct.Address); d != "" {
			t.Errorf("%s: Autodiscover outgoing: %s", tc.name, d)
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
	// Each start of Thunderbird costs about 3 s: sandbox scenarios whose
	// account has the same shape as one already checked are left out.
	shapes := map[string]bool{}
	for _, tc := range subjects(t) {
		in, out := tc.acct.Incoming, tc.acct.Outgoing
		shape := fmt.Sprint(in.Protocol, in.Security, in.Auth, in.Username, out.Security, out.Auth, out.Username)
		if shapes[shape] && tc.rec != nil {
			continue
		}
		shapes[shape] = true
		t.Run(tc.name, func(t *testing.T) {
			acct := tc.acct
			userJS := writeTemp(t, dir, tc.name+"-user.js", tc.file(t, "thunderbird/user.js"))
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
			in, out2 := acct.In(), acct.Out()
			inAuth, _ := tbAuth(in)
			outAuth, _ := tbAuth(out2)
			if a.Type != string(in.Protocol) || a.Hostname != in.Hostname || a.Port != in.Port ||
				a.SocketType != tbSocketType[in.Security] || a.AuthMethod != inAuth || a.Username != in.Username {
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
				o.SocketType != tbSocketType[out2.Security] || o.AuthMethod != outAuth || o.Username != out2.Username {
				t.Errorf("outgoing server %+v, want %+v", *o, out2)
			}
		})
	}
}
