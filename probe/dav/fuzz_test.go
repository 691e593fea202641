package dav

import (
	"strings"
	"testing"
)

// FuzzParseMultistatus feeds hostile XML to the PROPFIND reader: it must
// not panic, and what it keeps stays within its bounds.
func FuzzParseMultistatus(f *testing.F) {
	for _, seed := range []string{
		multistatusWith(`<d:current-user-principal><d:href>/p/</d:href></d:current-user-principal>`),
		multistatusWith(`<c:calendar-home-set><d:href>/c/</d:href><d:href>/d/</d:href></c:calendar-home-set>`),
		`<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><d:multistatus xmlns:d="DAV:">&b;</d:multistatus>`,
		`<d:multistatus xmlns:d="DAV:">` + strings.Repeat("<d:response>", 200),
		`<d:multistatus xmlns:d="DAV:"><d:response><d:propstat><d:prop><d:current-user-principal><d:href>` + strings.Repeat("x", 5000) + `</d:href></d:current-user-principal></d:prop></d:propstat></d:response></d:multistatus>`,
		`<d:multistatus xmlns:d="DAV:"><d:response><d:propstat><d:status>HTTP/1.1 404 Not Found</d:status><d:prop><d:current-user-principal><d:href>/p/</d:href></d:current-user-principal></d:prop></d:propstat></d:response></d:multistatus>`,
		"\x00<\xff",
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, k := range []Kind{CalDAV, CardDAV} {
			p, err := parseMultistatus(body, k)
			if err != nil {
				continue
			}
			if len(p.Principal) > maxHrefs || len(p.HomeSets) > maxHrefs {
				t.Fatalf("kept %d and %d hrefs", len(p.Principal), len(p.HomeSets))
			}
			for _, h := range append(p.Principal, p.HomeSets...) {
				if len(h) > maxHrefLength || strings.ContainsAny(h, "\r\n\x00") {
					t.Fatalf("kept href %q", h)
				}
			}
		}
	})
}

// FuzzParseSession feeds hostile JSON to the JMAP session reader.
func FuzzParseSession(f *testing.F) {
	for _, seed := range []string{
		`{"capabilities":{"urn:ietf:params:jmap:core":{}},"apiUrl":"/api/","username":"a"}`,
		`{"capabilities":{"urn:ietf:params:jmap:core":null},"username":"a\r\nb"}`,
		`{"capabilities":[]}`,
		`[`,
		`{"capabilities":{"urn:ietf:params:jmap:core":{}},"apiUrl":"` + strings.Repeat("a", 3000) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := parseSession(body)
		if err != nil {
			return
		}
		if len(s.capabilities) > maxCapabilities || len(s.apiURL) > maxHrefLength || strings.ContainsAny(s.username, "\r\n\x00") {
			t.Fatalf("session %+v out of bounds", s)
		}
	})
}
