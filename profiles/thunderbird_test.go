package profiles

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
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
			if s.Protocol == autoconfig.POP3 && (s.POP3 == nil || !s.POP3.LeaveMessagesOnServer || s.POP3.DaysToLeave < keepForGood) {
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
			// The servers as the isp/ file lists them: the account's
			// protocol first.
			written := thunderbirdISPProvider(tc.acct)
			addr, _ := autoconfig.ParseAddress("testuser@" + written.Domains[0])
			gotIn := append([]tbjudge.Server{v.Config.Incoming}, v.Config.IncomingAlternatives...)
			gotOut := append([]tbjudge.Server{v.Config.Outgoing}, v.Config.OutgoingAlternatives...)
			if len(gotIn) != len(written.Incoming) || len(gotOut) != len(written.Outgoing) {
				t.Errorf("%s (%s): Thunderbird kept %d incoming and %d outgoing servers of %d and %d",
					tc.name, mode, len(gotIn), len(gotOut), len(written.Incoming), len(written.Outgoing))
				continue
			}
			for i, s := range written.Incoming {
				if d := sameServer(gotIn[i], s, addr); d != "" {
					t.Errorf("%s (%s): incoming %d: %s", tc.name, mode, i, d)
				}
			}
			for i, s := range written.Outgoing {
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

// Thunderbird, started on a new profile holding only our user.js, has the
// whole account: server, identity, and the identity's own SMTP server.
func TestThunderbirdLoadsUserJS(t *testing.T) {
	thunderbirdJudge(t)
	// Each start of Thunderbird costs about 3-5 s: sandbox scenarios whose
	// account has the same shape as one already checked are left out.
	shapes := map[string]bool{}
	for _, tc := range subjects(t) {
		in, out := tc.acct.Incoming, tc.acct.Outgoing
		shape := fmt.Sprint(in.Protocol, in.Security, in.Auth, in.Username, out.Security, out.Auth, out.Username)
		if shapes[shape] && tc.sandbox {
			continue
		}
		shapes[shape] = true
		t.Run(tc.name, func(t *testing.T) {
			tb := tbjudge.Start(t, tc.file(t, "thunderbird/user.js"), tbOffline)
			accounts := tb.Accounts(t)
			if len(accounts) != 1 || accounts[0].Key != tbAccountKey {
				t.Fatalf("Thunderbird has accounts %+v, want exactly %s", accounts, tbAccountKey)
			}
			checkTBAccount(t, accounts[0], tc.acct, tc.display, true)
		})
	}
}

// tbOffline keeps the user.js account from logging in at startup: its
// password prompt would block Thunderbird's first window.
var tbOffline = map[string]any{"mail.server." + tbServerKey + ".login_at_startup": false}

// checkTBAccount compares an account as Thunderbird has it with ours;
// fromUserJS also checks what only user.js sets (the SMTP server's key).
func checkTBAccount(t *testing.T, a tbjudge.Account, acct Account, display string, fromUserJS bool) {
	t.Helper()
	in, out := acct.In(), acct.Out()
	inAuth, _ := tbAuth(in)
	outAuth, _ := tbAuth(out)
	if a.Type != string(in.Protocol) || a.Hostname != in.Hostname || a.Port != in.Port ||
		a.SocketType != tbSocketType[in.Security] || a.AuthMethod != inAuth || a.Username != in.Username {
		t.Errorf("incoming server %+v, want %+v", a, in)
	}
	if in.Protocol == autoconfig.POP3 {
		checkTBKeepsMail(t, a, fromUserJS)
	}
	if len(a.Identities) != 1 {
		t.Fatalf("identities %+v", a.Identities)
	}
	id := a.Identities[0]
	if id.FullName != display || id.Email != acct.Address.ASCII() || !id.Valid {
		t.Errorf("identity %+v, want %q <%s>", id, display, acct.Address.ASCII())
	}
	if id.Outgoing == nil || (fromUserJS && id.SMTPServerKey != tbSMTPKey) {
		t.Fatalf("the identity does not name its own SMTP server: %+v", id)
	}
	o := id.Outgoing
	if fromUserJS && o.Description != acct.providerName() {
		t.Errorf("outgoing server named %q, want %q", o.Description, acct.providerName())
	}
	if o.Hostname != out.Hostname || o.Port != out.Port ||
		o.SocketType != tbSocketType[out.Security] || o.AuthMethod != outAuth || o.Username != out.Username {
		t.Errorf("outgoing server %+v, want %+v", *o, out)
	}
}

// keepForGood is the fewest days to leave mail on the server that mean
// "keep": a hundred years.
const keepForGood = 100 * 365

// checkTBKeepsMail: a POP3 account keeps the mail on the server and never
// deletes it by age. Thunderbird's account setup cannot switch deletion by
// age off, so an account made from the isp/ file must have tbKeepDays.
func checkTBKeepsMail(t *testing.T, a tbjudge.Account, fromUserJS bool) {
	t.Helper()
	is := func(p *bool) bool { return p != nil && *p }
	if !is(a.LeaveOnServer) || !is(a.DownloadOnBiff) {
		t.Errorf("POP3 account %s: leave on server %v, download on biff %v; want both true", a.Key, a.LeaveOnServer, a.DownloadOnBiff)
	}
	switch {
	case fromUserJS && (a.DeleteByAgeFromServer == nil || *a.DeleteByAgeFromServer):
		t.Errorf("POP3 account %s from user.js deletes by age (%v)", a.Key, a.DeleteByAgeFromServer)
	case !fromUserJS && is(a.DeleteByAgeFromServer) && a.NumDaysToLeaveOnServer < keepForGood:
		t.Errorf("POP3 account %s from the isp/ file deletes mail after %d days", a.Key, a.NumDaysToLeaveOnServer)
	}
}

// One Thunderbird loads our user.js for a POP3 account with a non-ASCII
// address, then runs its own account creation from our isp/ files for two
// more (the address typed as a person types it, a --protocol pop3 file),
// and quits: its objects and the prefs.js it wrote say that POP3 keeps the
// mail, nothing is deleted by age, and each address is as typed.
func TestThunderbirdCreatesAccountsFromOurFiles(t *testing.T) {
	thunderbirdJudge(t)
	account := func(settings, address, display string, protocol autoconfig.Protocol) (Account, []File) {
		t.Helper()
		addr, err := autoconfig.ParseAddress(address)
		if err != nil {
			t.Fatal(err)
		}
		acct, err := NewAccount(loadProvider(t, settings), addr, display, protocol)
		if err != nil {
			t.Fatal(err)
		}
		files, err := Render(acct, []Format{Thunderbird}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return acct, files
	}
	userJSAcct, userJSFiles := account("pop3-only.xml", "jürgen@pop-only.test", "Jürgen Müller", "")
	ispPOP, ispPOPFiles := account("pop3-only.xml", "märta.öberg@pop-only.test", "Märta Öberg", "")
	ispAsPOP, ispAsPOPFiles := account("imap-pop3.xml", "zoë@example.test", "Zoë", autoconfig.POP3)
	idn, idnFiles := account("idn.xml", "anna@bücher.test", "Anna Lindqvist", "")

	tb := tbjudge.Start(t, fileData(t, userJSFiles, "thunderbird/user.js"), tbOffline)
	t.Logf("Thunderbird started in %v", tb.Startup)
	var ispKeys []string
	for _, c := range []struct {
		acct  Account
		files []File
	}{{ispPOP, ispPOPFiles}, {ispAsPOP, ispAsPOPFiles}} {
		dir := t.TempDir()
		name := ThunderbirdISPFileName(c.acct.Address.Domain)
		writeTemp(t, dir, "isp/"+name, fileData(t, c.files, "thunderbird/isp/"+name))
		ispKeys = append(ispKeys, tb.CreateFromISP(t, dir, c.acct.Address.Domain, c.acct.Address.String(), c.acct.DisplayName))
	}
	// An IDN domain: Thunderbird refuses the Unicode form before it looks
	// into isp/ (FetchConfig.fromDisk runs InputSanitizer.hostname on it),
	// and takes the A-label form the sheet tells people to type.
	idnDir := t.TempDir()
	idnName := ThunderbirdISPFileName(idn.Address.Domain)
	writeTemp(t, idnDir, "isp/"+idnName, fileData(t, idnFiles, "thunderbird/isp/"+idnName))
	if _, err := tb.TryCreateFromISP(t, idnDir, idn.Address.DomainUnicode, idn.Address.String(), idn.DisplayName); err == nil {
		t.Errorf("Thunderbird took the Unicode domain %s; the sheet's advice to type the xn-- form may be needless", idn.Address.DomainUnicode)
	}
	idnKey := tb.CreateFromISP(t, idnDir, idn.Address.Domain, idn.Address.ASCII(), idn.DisplayName)

	byKey := map[string]tbjudge.Account{}
	for _, a := range tb.Accounts(t) {
		byKey[a.Key] = a
	}
	checkTBAccount(t, byKey[tbAccountKey], userJSAcct, userJSAcct.DisplayName, true)
	checkTBAccount(t, byKey[ispKeys[0]], ispPOP, ispPOP.DisplayName, false)
	checkTBAccount(t, byKey[ispKeys[1]], ispAsPOP, ispAsPOP.DisplayName, false)
	checkTBAccount(t, byKey[idnKey], idn, idn.DisplayName, false)

	// What Thunderbird wrote to disk, as the next start reads it.
	prefs := tb.Quit(t)
	latin1 := func(s string) string {
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return string(b)
	}
	for _, c := range []struct {
		acct       Account
		key        string
		fromUserJS bool
	}{{userJSAcct, tbAccountKey, true}, {ispPOP, ispKeys[0], false}, {ispAsPOP, ispKeys[1], false}} {
		srv := "mail.server." + byKey[c.key].ServerKey + "."
		id := "mail.identity." + byKey[c.key].Identities[0].Key + "."
		if got := prefs[id+"useremail"]; got != latin1(c.acct.Address.ASCII()) {
			t.Errorf("%s: prefs.js useremail %q, want the Latin-1 bytes of %q", c.key, got, c.acct.Address.ASCII())
		}
		if prefs[srv+"leave_on_server"] != true {
			t.Errorf("%s: prefs.js leave_on_server %v", c.key, prefs[srv+"leave_on_server"])
		}
		byAge, days := prefs[srv+"delete_by_age_from_server"], prefs[srv+"num_days_to_leave_on_server"]
		if c.fromUserJS && byAge == true || !c.fromUserJS && byAge != false && (days == nil || days.(int64) < keepForGood) {
			t.Errorf("%s: prefs.js delete_by_age_from_server %v, num_days_to_leave_on_server %v", c.key, byAge, days)
		}
	}
}

// Without Thunderbird: the byte-string prefs of a Latin-1 address are
// written as Thunderbird's own setup stores them (one \xNN byte per
// letter), the UTF-8 ones as \uNNNN; only the comments are not ASCII.
func TestThunderbirdUserJSNonASCII(t *testing.T) {
	addr, err := autoconfig.ParseAddress("jürgen@pop-only.test")
	if err != nil {
		t.Fatal(err)
	}
	acct, err := NewAccount(loadProvider(t, "pop3-only.xml"), addr, "Jürgen Müller", "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ThunderbirdUserJS(&b, acct); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`user_pref("mail.identity.id1.useremail", "j\xfcrgen@pop-only.test");`,
		`user_pref("mail.smtpserver.smtp1.username", "j\xfcrgen");`,
		`user_pref("mail.identity.id1.fullName", "J\u00fcrgen M\u00fcller");`,
		`user_pref("mail.server.server1.userName", "j\u00fcrgen");`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("user.js lacks %s", want)
		}
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(l, "//") && !isASCII(l) {
			t.Errorf("user.js line not ASCII: %s", l)
		}
	}
}

// Thunderbird, started on a new profile holding only our user.js for an
// account with calendar and contacts, has the CardDAV address book and the
// CalDAV calendar besides the mail account, with the URL and login name of
// the files, and keeps them in the prefs.js it writes.
func TestThunderbirdLoadsDAVFromUserJS(t *testing.T) {
	thunderbirdJudge(t)
	for _, name := range []string{"dav", "dav-split"} {
		tc := testCases[slices.IndexFunc(testCases, func(c testCase) bool { return c.name == name })]
		t.Run(name, func(t *testing.T) {
			acct := tc.account(t)
			dav := acct.dav()
			if len(dav) != 2 {
				t.Fatalf("test case %s has %d DAV services, want 2", name, len(dav))
			}
			calSvc, cardSvc := dav[0], dav[1]
			tb := tbjudge.Start(t, fileData(t, tc.render(t), "thunderbird/user.js"), tbOffline)
			if accounts := tb.Accounts(t); len(accounts) != 1 || accounts[0].Key != tbAccountKey {
				t.Errorf("Thunderbird has accounts %+v, want exactly %s", accounts, tbAccountKey)
			}
			got := tb.Collections(t)
			if got.CardDAVType != tbCardDAVDirectoryType {
				t.Errorf("this Thunderbird's CARDDAV_DIRECTORY_TYPE is %d, user.js writes %d", got.CardDAVType, tbCardDAVDirectoryType)
			}
			i := slices.IndexFunc(got.AddressBooks, func(b tbjudge.AddressBook) bool { return b.PrefID == tbAddressBookKey })
			if i < 0 {
				t.Fatalf("no address book %s; Thunderbird has %+v", tbAddressBookKey, got.AddressBooks)
			}
			book := got.AddressBooks[i]
			if book.Type != got.CardDAVType || book.CardDAVURL != cardSvc.URL || book.CardDAVUsername != cardSvc.Username ||
				book.Name != acct.providerName()+" contacts" || book.FileName != tbAddressBookFile {
				t.Errorf("address book %+v, want CardDAV at %s as %s", book, cardSvc.URL, cardSvc.Username)
			}
			j := slices.IndexFunc(got.Calendars, func(c tbjudge.Calendar) bool { return c.ID == tbCalendarID(acct.Address) })
			if j < 0 {
				t.Fatalf("no calendar %s; Thunderbird has %+v", tbCalendarID(acct.Address), got.Calendars)
			}
			calendar := got.Calendars[j]
			if calendar.Type != "caldav" || calendar.URI != calSvc.URL || calendar.Username != calSvc.Username ||
				calendar.Name != acct.providerName()+" calendar" || calendar.Disabled || !calendar.Cached {
				t.Errorf("calendar %+v, want CalDAV at %s as %s, enabled, cached", calendar, calSvc.URL, calSvc.Username)
			}
			prefs := tb.Quit(t)
			for k, want := range map[string]any{
				tbAddressBookKey + ".carddav.url":                           cardSvc.URL,
				"calendar.registry." + tbCalendarID(acct.Address) + ".uri":  calSvc.URL,
				"calendar.registry." + tbCalendarID(acct.Address) + ".type": "caldav",
				tbAddressBookKey + ".dirType":                               float64(tbCardDAVDirectoryType),
			} {
				if v := prefs[k]; fmt.Sprint(v) != fmt.Sprint(want) {
					t.Errorf("prefs.js %s = %v, want %v", k, v, want)
				}
			}
			if _, err := os.Stat(filepath.Join(tb.Profile, tbAddressBookFile)); err != nil {
				t.Errorf("Thunderbird made no address book file: %v", err)
			}
			t.Logf("Thunderbird started in %v", tb.Startup)
		})
	}
}
