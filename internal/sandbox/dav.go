package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"
)

// Paths of the calendar, contacts and JMAP services a Site serves. The
// context paths are what a scenario's TXT path= records name.
const (
	CalDAVPath  = "/dav/cal/"
	CardDAVPath = "/dav/card/"
	jmapPath    = "/.well-known/jmap"
	jmapAPIPath = "/jmap/api/"
)

// DAVHomeSets are the principal and home-set paths the sandbox serves for
// a login's local part: what a probe must find.
func DAVHomeSets(localPart string) (calPrincipal, calHome, cardPrincipal, cardHome string) {
	return CalDAVPath + localPart + "/", CalDAVPath + localPart + "/calendars/",
		CardDAVPath + localPart + "/", CardDAVPath + localPart + "/contacts/"
}

// serveDAV answers the calendar, contacts and JMAP paths of a site and
// reports whether it did. Everything but the well-known redirects wants the
// scenario's account over HTTP Basic; the password is recorded on arrival.
func (ws *webServer) serveDAV(rw http.ResponseWriter, r *http.Request, ep *endpoint, site *Site) bool {
	path := r.URL.Path
	switch {
	case path == "/.well-known/caldav" && site.WellKnownCalDAV != "":
		http.Redirect(rw, r, site.WellKnownCalDAV, http.StatusMovedPermanently)
	case path == "/.well-known/carddav" && site.WellKnownCardDAV != "":
		http.Redirect(rw, r, site.WellKnownCardDAV, http.StatusMovedPermanently)
	case site.DAV && strings.HasPrefix(path, CalDAVPath):
		if local, ok := ws.basicLogin(rw, r, ep); ok {
			(&caldav.Handler{Backend: &calBackend{user: local}, Prefix: strings.TrimSuffix(CalDAVPath, "/")}).ServeHTTP(rw, r)
		}
	case site.DAV && strings.HasPrefix(path, CardDAVPath):
		if local, ok := ws.basicLogin(rw, r, ep); ok {
			(&carddav.Handler{Backend: &cardBackend{user: local}, Prefix: strings.TrimSuffix(CardDAVPath, "/")}).ServeHTTP(rw, r)
		}
	case site.JMAP && path == jmapPath && r.Method == http.MethodGet:
		if _, ok := ws.basicLogin(rw, r, ep); ok {
			writeJMAPSession(rw, r, ep.host.scenario.Login())
		}
	default:
		return false
	}
	return true
}

// basicLogin checks HTTP Basic credentials against the scenario's account
// and answers 401 when they are missing or wrong. It returns the login's
// local part, which names the principal.
func (ws *webServer) basicLogin(rw http.ResponseWriter, r *http.Request, ep *endpoint) (string, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok || !ep.checkLogin(user, pass) {
		rw.Header().Set("WWW-Authenticate", `Basic realm="sandbox", charset="UTF-8"`)
		http.Error(rw, "401 Unauthorized", http.StatusUnauthorized)
		return "", false
	}
	local, _, _ := strings.Cut(user, "@")
	return local, true
}

// writeJMAPSession writes a minimal RFC 8620 §2 session object.
func writeJMAPSession(rw http.ResponseWriter, r *http.Request, username string) {
	base := "https://" + r.Host
	account := "a1"
	session := map[string]any{
		"capabilities": map[string]any{
			"urn:ietf:params:jmap:core": map[string]any{"maxSizeUpload": 50000000, "maxConcurrentUpload": 4,
				"maxSizeRequest": 10000000, "maxConcurrentRequests": 4, "maxCallsInRequest": 16,
				"maxObjectsInGet": 500, "maxObjectsInSet": 500, "collationAlgorithms": []string{}},
			"urn:ietf:params:jmap:mail": map[string]any{},
		},
		"accounts": map[string]any{account: map[string]any{"name": username, "isPersonal": true, "isReadOnly": false,
			"accountCapabilities": map[string]any{"urn:ietf:params:jmap:mail": map[string]any{}}}},
		"primaryAccounts": map[string]any{"urn:ietf:params:jmap:mail": account},
		"username":        username,
		"apiUrl":          base + jmapAPIPath,
		"downloadUrl":     base + "/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
		"uploadUrl":       base + "/jmap/upload/{accountId}/",
		"eventSourceUrl":  base + "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
		"state":           "0",
	}
	rw.Header().Set("Content-Type", "application/json")
	json.NewEncoder(rw).Encode(session)
}

var errNoObjects = webdav.NewHTTPError(http.StatusNotFound, errors.New("sandbox: the account holds no such object"))

// calBackend is one account's empty calendar home for go-webdav's CalDAV
// server: it has one calendar and no events.
type calBackend struct{ user string }

func (b *calBackend) CurrentUserPrincipal(context.Context) (string, error) {
	p, _, _, _ := DAVHomeSets(b.user)
	return p, nil
}

func (b *calBackend) CalendarHomeSetPath(context.Context) (string, error) {
	_, h, _, _ := DAVHomeSets(b.user)
	return h, nil
}

func (b *calBackend) calendar() caldav.Calendar {
	_, h, _, _ := DAVHomeSets(b.user)
	return caldav.Calendar{Path: h + "default/", Name: "Calendar", SupportedComponentSet: []string{"VEVENT"}}
}

func (b *calBackend) CreateCalendar(context.Context, *caldav.Calendar) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("sandbox: read-only"))
}

func (b *calBackend) ListCalendars(context.Context) ([]caldav.Calendar, error) {
	return []caldav.Calendar{b.calendar()}, nil
}

func (b *calBackend) GetCalendar(_ context.Context, path string) (*caldav.Calendar, error) {
	if c := b.calendar(); path == c.Path {
		return &c, nil
	}
	return nil, errNoObjects
}

func (b *calBackend) GetCalendarObject(context.Context, string, *caldav.CalendarCompRequest) (*caldav.CalendarObject, error) {
	return nil, errNoObjects
}

func (b *calBackend) ListCalendarObjects(context.Context, string, *caldav.CalendarCompRequest) ([]caldav.CalendarObject, error) {
	return nil, nil
}

func (b *calBackend) QueryCalendarObjects(context.Context, string, *caldav.CalendarQuery) ([]caldav.CalendarObject, error) {
	return nil, nil
}

func (b *calBackend) PutCalendarObject(context.Context, string, *ical.Calendar, *caldav.PutCalendarObjectOptions) (*caldav.CalendarObject, error) {
	return nil, webdav.NewHTTPError(http.StatusForbidden, errors.New("sandbox: read-only"))
}

func (b *calBackend) DeleteCalendarObject(context.Context, string) error { return errNoObjects }

// cardBackend is one account's empty address-book home for go-webdav's
// CardDAV server: it has one address book and no contacts.
type cardBackend struct{ user string }

func (b *cardBackend) CurrentUserPrincipal(context.Context) (string, error) {
	_, _, p, _ := DAVHomeSets(b.user)
	return p, nil
}

func (b *cardBackend) AddressBookHomeSetPath(context.Context) (string, error) {
	_, _, _, h := DAVHomeSets(b.user)
	return h, nil
}

func (b *cardBackend) book() carddav.AddressBook {
	_, _, _, h := DAVHomeSets(b.user)
	return carddav.AddressBook{Path: h + "default/", Name: "Contacts"}
}

func (b *cardBackend) ListAddressBooks(context.Context) ([]carddav.AddressBook, error) {
	return []carddav.AddressBook{b.book()}, nil
}

func (b *cardBackend) GetAddressBook(_ context.Context, path string) (*carddav.AddressBook, error) {
	if a := b.book(); path == a.Path {
		return &a, nil
	}
	return nil, errNoObjects
}

func (b *cardBackend) CreateAddressBook(context.Context, *carddav.AddressBook) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("sandbox: read-only"))
}

func (b *cardBackend) DeleteAddressBook(context.Context, string) error { return errNoObjects }

func (b *cardBackend) GetAddressObject(context.Context, string, *carddav.AddressDataRequest) (*carddav.AddressObject, error) {
	return nil, errNoObjects
}

func (b *cardBackend) ListAddressObjects(context.Context, string, *carddav.AddressDataRequest) ([]carddav.AddressObject, error) {
	return nil, nil
}

func (b *cardBackend) QueryAddressObjects(context.Context, string, *carddav.AddressBookQuery) ([]carddav.AddressObject, error) {
	return nil, nil
}

func (b *cardBackend) PutAddressObject(context.Context, string, vcard.Card, *carddav.PutAddressObjectOptions) (*carddav.AddressObject, error) {
	return nil, webdav.NewHTTPError(http.StatusForbidden, errors.New("sandbox: read-only"))
}

func (b *cardBackend) DeleteAddressObject(context.Context, string) error { return errNoObjects }
