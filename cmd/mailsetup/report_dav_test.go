package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/probe"
)

// The text report has one line each for the calendar, contacts and JMAP
// service it found, saying how far each was proven; a guess that came to
// nothing gets none.
func TestReportTextListsCalendarsContactsAndJMAP(t *testing.T) {
	rep := &probe.Report{Email: "alice@example.test", Domain: "example.test", Status: probe.StatusNothingFound,
		DAV: []probe.DAVReport{
			{Kind: "caldav", URL: "https://dav.example.test/", Status: probe.DAVProven, HomeSets: []string{"https://dav.example.test/cal/alice/"},
				Sources: []probe.Source{{Method: "dav-srv"}}},
			{Kind: "carddav", URL: "https://dav.example.test/", Status: probe.DAVVerified, Sources: []probe.Source{{Method: "dav-srv"}}},
		},
		JMAP: []probe.DAVReport{{Kind: "jmap", URL: "https://mail.example.test/.well-known/jmap", Status: "failed", Error: "refused",
			Sources: []probe.Source{{Method: "dav-guess"}}}},
	}
	var b bytes.Buffer
	if err := writeReportText(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"  CalDAV   https://dav.example.test/  login works; home /cal/alice/",
		"  CardDAV  https://dav.example.test/  answers with valid TLS; no login tried",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no line %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "  JMAP ") {
		t.Errorf("a JMAP guess that came to nothing is listed:\n%s", out)
	}
}
