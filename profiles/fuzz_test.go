package profiles

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"howett.net/plist"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/tbjudge"
)

// The writers' second wall: the model refuses hostile values, but should
// one get through, every writer still escapes it for its own format. Each
// hostile value goes into the display name, the provider's name, the host
// names and the usernames; every file is parsed back as its client reads
// it (user.js as Gecko prefs, the .prf as INI, the .reg as regedit's format,
// the plist, the HTML, the XML, the QR JSON, the text line by line) and
// must have exactly the keys, elements and lines of the same account with
// harmless values.
//
//	go test ./profiles -run '^$' -fuzz FuzzWritersKeepTheirShape -fuzztime 5m
func FuzzWritersKeepTheirShape(f *testing.F) {
	for _, seed := range []string{
		"x\nuser_pref(\"network.proxy.type\", 1);",
		"x\r\nSMTPServer=attacker.test",
		"x\"); user_pref(\"a\", \"b",
		`x\\" \x41 \u0041`,
		"x]\r\n[Account2]\r\nIMAPServer=evil.test",
		"x;\n[HKEY_CURRENT_USER\\Software\\Evil]\n\"A\"=\"B\"",
		"x</string><key>IncomingPassword</key><string>p",
		"x</script><script>alert(1)</script>",
		"x\x00\x01\x1b[2J\x7f\u2028\u0085",
		"x\t\v\f",
		"x<!-- -->]]>&amp;",
		"x\xff\xfe invalid UTF-8",
		"Jürgen 😀",
	} {
		f.Add(seed)
	}
	// The account with calendar and contacts at two URLs: every writer's
	// DAV part too.
	base := testCases[slices.IndexFunc(testCases, func(c testCase) bool { return c.name == "dav-split" })]
	// Every writer but the QR PNG (its payload is the .txt's), called
	// directly: rendering the PNG would make each run ten times slower.
	shapes := func(t *testing.T, acct Account) map[string]string {
		acct.unproven = true
		writers := map[string]func(io.Writer) error{
			"thunderbird/user.js":        func(w io.Writer) error { return ThunderbirdUserJS(w, acct) },
			"thunderbird/isp.xml":        func(w io.Writer) error { return ThunderbirdISP(w, acct) },
			"outlook/autodiscover.xml":   func(w io.Writer) error { return OutlookAutodiscover(w, acct) },
			"outlook/autodiscover.reg":   func(w io.Writer) error { return OutlookReg(w, acct, "") },
			"outlook/outlook.prf":        func(w io.Writer) error { return OutlookPRF(w, acct) },
			"apple/a.mobileconfig":       func(w io.Writer) error { return AppleMobileconfig(w, acct, AppleOptions{}) },
			"android/thunderbird-qr.txt": func(w io.Writer) error { return AndroidQRText(w, acct) },
			"android/README.txt":         func(w io.Writer) error { return AndroidNote(w, acct) },
			"sheet/setup.html":           func(w io.Writer) error { return SheetHTML(w, acct) },
			"sheet/setup.txt":            func(w io.Writer) error { return SheetText(w, acct) },
		}
		out := map[string]string{}
		for path, write := range writers {
			var b bytes.Buffer
			err := write(&b)
			if errors.Is(err, ErrUnsupported) || errors.Is(err, autoconfig.ErrMalformed) {
				// Refused whole, nothing written: the isp/ file is the
				// model's own writer, which validates first.
				continue
			}
			if errors.Is(err, autoconfig.ErrMalformed) {
				// The first wall: a writer that goes through the model's
				// own writer (the isp/ file) refuses the value outright.
				out[path] = refusedByModel
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			s, err := fileShape(File{Path: path, Data: b.Bytes()})
			if err != nil {
				t.Fatalf("%s does not parse back: %v\n%q", path, err, b.Bytes())
			}
			out[path] = s
		}
		return out
	}
	var want map[string]string
	f.Fuzz(func(t *testing.T, hostile string) {
		if want == nil {
			want = shapes(t, base.account(t))
		}
		// Names and hosts are short; a long value only makes the QR
		// encoder slow (the QR limit has its own test).
		if len(hostile) > 80 {
			hostile = hostile[:80]
		}
		if !strings.HasPrefix(hostile, "x") {
			hostile = "x" + hostile
		}
		acct := base.account(t)

		acct.DisplayName = hostile
		acct.Provider = acct.Provider.Clone()
		acct.Provider.DisplayName = hostile
		acct.Incoming.Hostname = hostile
		acct.Outgoing.Hostname = hostile
		acct.Incoming.Username = hostile
		acct.Outgoing.Username = hostile
		for i := range acct.Provider.Incoming {
			acct.Provider.Incoming[i].Hostname = hostile
		}
		// The calendar's URL hostile as a whole, the address book's in its
		// path; both usernames hostile.
		acct.Provider.DAV[0].URL = hostile
		acct.Provider.DAV[1].URL = "https://dav.example.test/" + hostile
		for i := range acct.Provider.DAV {
			acct.Provider.DAV[i].Username = hostile
		}
		got := shapes(t, acct)
		for path, w := range want {
			g, ok := got[path]
			if !ok {
				// user.js cannot hold a username beyond Latin-1, and the QR
				// code a very long one: left out with ErrUnsupported.
				// The isp/ file is refused whole by the model's validation.
				if path == "thunderbird/user.js" || path == "thunderbird/isp.xml" || strings.HasPrefix(path, "android/thunderbird-qr") {
					continue
				}
				t.Errorf("%s was not written", path)
				continue
			}
			if g == refusedByModel {
				continue
			}
			if g != w {
				t.Errorf("%s changed shape with %q:\n got %s\nwant %s", path, hostile, g, w)
			}
		}
		checkValues(t, acct, hostile)
	})
}

// checkValues: the values come back as written, cleaned of what their
// format cannot hold.
func checkValues(t *testing.T, acct Account, hostile string) {
	var b bytes.Buffer
	if err := ThunderbirdUserJS(&b, acct); err == nil {
		prefs, err := tbjudge.ParsePrefs(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(strings.ToValidUTF8(hostile, "\uFFFD"), "\x00", "")
		if got := prefs["mail.identity.id1.fullName"]; got != want {
			t.Errorf("user.js fullName %q, want %q", got, want)
		}
		if got := prefs["mail.server.server1.hostname"]; got != want {
			t.Errorf("user.js hostname %q, want %q", got, want)
		}
		if got := prefs["calendar.registry."+tbCalendarID(acct.Address)+".uri"]; got != want {
			t.Errorf("user.js calendar uri %q, want %q", got, want)
		}
		if got := prefs[tbAddressBookKey+".carddav.username"]; got != want {
			t.Errorf("user.js address book username %q, want %q", got, want)
		}
	}
}

var (
	iniSection = regexp.MustCompile(`^\[[^\]]*\]$`)
	iniKey     = regexp.MustCompile(`^([A-Za-z0-9_]+)=`)
	regValue   = regexp.MustCompile(`^"((?:[^"\\]|\\.)*)"=(dword:[0-9a-f]{8}|"(?:[^"\\]|\\.)*")$`)
)

// refusedByModel marks a file whose writer refused a hostile value with
// autoconfig.ErrMalformed instead of writing it.
const refusedByModel = "refused by the model"

// fileShape is what must not change with the values: the keys, sections,
// elements and line count, per format.
func fileShape(f File) (string, error) {
	text := decodeText(f.Data)
	switch {
	case strings.HasSuffix(f.Path, "user.js"):
		prefs, err := tbjudge.ParsePrefs(f.Data)
		if err != nil {
			return "", err
		}
		var keys []string
		for k := range prefs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return strings.Join(keys, " "), nil
	case strings.HasSuffix(f.Path, ".prf"):
		var keys []string
		for _, l := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
			switch {
			case l == "" || strings.HasPrefix(l, ";"):
			case iniSection.MatchString(l):
				keys = append(keys, l)
			case iniKey.MatchString(l):
				keys = append(keys, iniKey.FindStringSubmatch(l)[1])
			default:
				return "", fmt.Errorf("line %q is no INI line", l)
			}
		}
		return strings.Join(keys, " "), nil
	case strings.HasSuffix(f.Path, ".reg"):
		var keys []string
		for i, l := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
			switch {
			case i == 0 && l == "Windows Registry Editor Version 5.00", l == "", strings.HasPrefix(l, ";"):
			case iniSection.MatchString(l):
				keys = append(keys, l)
			case regValue.MatchString(l):
				keys = append(keys, "value")
			default:
				return "", fmt.Errorf("line %q is no .reg line", l)
			}
		}
		return strings.Join(keys, " "), nil
	case strings.HasSuffix(f.Path, ".mobileconfig"):
		var m map[string]any
		if _, err := plist.Unmarshal(f.Data, &m); err != nil {
			return "", err
		}
		return dictKeys(m), nil
	case strings.HasSuffix(f.Path, ".html"):
		z := html.NewTokenizer(bytes.NewReader(f.Data))
		var tags []string
		for {
			switch z.Next() {
			case html.ErrorToken:
				if z.Err() == io.EOF {
					return strings.Join(tags, " "), nil
				}
				return "", z.Err()
			case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
				name, _ := z.TagName()
				tags = append(tags, string(name))
			}
		}
	case strings.HasSuffix(f.Path, ".xml"):
		d := xml.NewDecoder(bytes.NewReader(f.Data))
		var els []string
		for {
			tok, err := d.Token()
			if err == io.EOF {
				return strings.Join(els, " "), nil
			}
			if err != nil {
				return "", err
			}
			if se, ok := tok.(xml.StartElement); ok {
				els = append(els, se.Name.Local)
			}
		}
	case f.Path == "android/thunderbird-qr.txt":
		var v []any
		if err := json.Unmarshal(f.Data, &v); err != nil {
			return "", err
		}
		return fmt.Sprint(len(v)), nil
	case strings.HasSuffix(f.Path, ".txt"):
		return fmt.Sprint(strings.Count(text, "\n"), " lines"), nil
	}
	return "", nil
}

func dictKeys(m map[string]any) string {
	var keys []string
	for k, v := range m {
		keys = append(keys, k)
		if list, ok := v.([]any); ok {
			for _, e := range list {
				if d, ok := e.(map[string]any); ok {
					keys = append(keys, k+"{"+dictKeys(d)+"}")
				}
			}
		}
	}
	slices.Sort(keys)
	return strings.Join(keys, " ")
}
