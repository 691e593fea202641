package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDAVSite: the domain redirects its well-known URIs to the DAV host;
// the DAV host wants HTTP Basic, records the password, and answers
// PROPFIND with the principal and the home set (go-webdav); the JMAP
// session names its API.
func TestDAVSite(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"calendar-contacts"}})
	sc := w.Scenarios()[0]
	c := httpClient(w)

	resp, err := c.Get("https://groupware.test/.well-known/caldav")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://dav.groupware.test"+CalDAVPath {
		t.Errorf("well-known: %s to %q", resp.Status, resp.Header.Get("Location"))
	}

	propfind := func(url, body string, auth bool) (int, string) {
		req, _ := http.NewRequest("PROPFIND", url, strings.NewReader(body))
		req.Header.Set("Depth", "0")
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
		if auth {
			req.SetBasicAuth(sc.Login(), sc.Password)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	const principal = `<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>`
	if code, _ := propfind("https://dav.groupware.test"+CalDAVPath, principal, false); code != http.StatusUnauthorized {
		t.Errorf("PROPFIND without a password: %d", code)
	}
	if w.PasswordSeenBy("dav.groupware.test") {
		t.Errorf("password recorded before it was sent")
	}
	calPrincipal, calHome, _, cardHome := DAVHomeSets("alice")
	if code, body := propfind("https://dav.groupware.test"+CalDAVPath, principal, true); code != http.StatusMultiStatus || !strings.Contains(body, calPrincipal) {
		t.Errorf("PROPFIND context: %d %s", code, body)
	}
	if !w.PasswordSeenAt("dav.groupware.test", 443) {
		t.Errorf("the password's arrival was not recorded")
	}
	home := `<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-home-set/></d:prop></d:propfind>`
	if code, body := propfind("https://dav.groupware.test"+calPrincipal, home, true); code != http.StatusMultiStatus || !strings.Contains(body, calHome) {
		t.Errorf("PROPFIND principal: %d %s", code, body)
	}
	_, _, cardPrincipal, _ := DAVHomeSets("alice")
	books := `<d:propfind xmlns:d="DAV:" xmlns:a="urn:ietf:params:xml:ns:carddav"><d:prop><a:addressbook-home-set/></d:prop></d:propfind>`
	if code, body := propfind("https://dav.groupware.test"+cardPrincipal, books, true); code != http.StatusMultiStatus || !strings.Contains(body, cardHome) {
		t.Errorf("PROPFIND contacts principal: %d %s", code, body)
	}

	req, _ := http.NewRequest(http.MethodGet, "https://jmap.groupware.test/.well-known/jmap", nil)
	req.SetBasicAuth(sc.Login(), sc.Password)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var session struct {
		Capabilities map[string]any `json:"capabilities"`
		APIURL       string         `json:"apiUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&session); err != nil || session.Capabilities["urn:ietf:params:jmap:core"] == nil ||
		session.APIURL != "https://jmap.groupware.test"+jmapAPIPath {
		t.Errorf("JMAP session: %v %+v", err, session)
	}
}
