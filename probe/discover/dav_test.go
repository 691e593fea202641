package discover

import (
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// TestDAVElements reads the draft's <calendar> and <addressBook> (any
// case) beside <emailProvider>, and nothing else.
func TestDAVElements(t *testing.T) {
	doc := `<clientConfig version="1.1"><emailProvider id="x"/>
  <addressBook type="carddav"><url>https://dav.example.com/card/</url><username>%EMAILADDRESS%</username></addressBook>
  <calendar type="caldav"><url> https://dav.example.com/cal/ </url></calendar>
  <addressbook type="other"><url>https://no/</url></addressbook>
  <fileShare type="webdav"><url>https://files/</url></fileShare></clientConfig>`
	got := davElements([]byte(doc))
	if len(got) != 2 || got[0].Kind != autoconfig.CardDAV || got[0].URL != "https://dav.example.com/card/" || got[0].Username != "%EMAILADDRESS%" ||
		got[1].Kind != autoconfig.CalDAV || got[1].URL != "https://dav.example.com/cal/" {
		t.Errorf("davElements = %+v", got)
	}
}

// FuzzDAVElements: hostile documents give at most maxPublishedDAV
// services and no panic.
func FuzzDAVElements(f *testing.F) {
	f.Add([]byte(`<clientConfig><calendar type="caldav"><url>https://a/</url></calendar></clientConfig>`))
	f.Add([]byte(`<clientConfig>` + strings.Repeat(`<calendar type="caldav"><url>u</url></calendar>`, 50) + `</clientConfig>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><clientConfig>&a;</clientConfig>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if got := davElements(body); len(got) > maxPublishedDAV {
			t.Fatalf("%d services kept", len(got))
		}
	})
}
