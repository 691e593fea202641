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
