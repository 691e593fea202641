package profiles

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

func TestSheetEscapesAndExplains(t *testing.T) {
	tc := testCases[3] // display name `Ops <Team> & "Co"`
	files := tc.render(t)
	html := string(fileData(t, files, "sheet/setup.html"))
	if strings.Contains(html, "<Team>") || !strings.Contains(html, "Ops &lt;Team&gt; &amp; &#34;Co&#34;") {
		t.Error("the display name is not escaped in the HTML sheet")
	}
	for _, tc := range subjects(t) {
		acct := tc.acct
		files := tc.files
		for _, p := range []string{"sheet/setup.html", "sheet/setup.txt", "android/README.txt"} {
			text := string(fileData(t, files, p))
			for _, s := range []autoconfig.Server{acct.In(), acct.Out()} {
				for _, want := range []string{s.Hostname, strconv.Itoa(s.Port), s.Security.Description(), s.Username} {
					if !strings.Contains(text, want) {
						t.Errorf("%s/%s lacks %q", tc.name, p, want)
					}
				}
			}
		}
		txt := string(fileData(t, files, "sheet/setup.txt"))
		if !strings.Contains(txt, "IMAP keeps your mail on the server") || !strings.Contains(txt, "Leave a copy of messages on the server") {
			t.Errorf("%s: the sheet does not explain IMAP and the POP3 switch", tc.name)
		}
	}
}

// A calendar or contacts URL without TLS gets the sheet's warning, as an
// unencrypted mail server does.
func TestSheetWarnsOfPlainDAV(t *testing.T) {
	acct := testCases[0].account(t)
	acct.Provider.DAV = []autoconfig.DAVService{{Kind: autoconfig.CardDAV, URL: "http://dav.example.test/"}}
	var b strings.Builder
	if err := SheetText(&b, acct); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "http://dav.example.test/") || !strings.Contains(b.String(), "not encrypted") {
		t.Errorf("the sheet for an http address book lacks its URL or the warning:\n%s", b.String())
	}
}
