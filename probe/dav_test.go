package probe

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
)

// davHostPort is the host:port of a sandbox URL, as the password recorder
// names it.
func davHostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.Port() == "" {
		return u.Hostname() + ":443"
	}
	return u.Host
}

// findDAV is the report's entry for an expected service.
func findDAV(r *Report, want sandbox.DAVExpectation) (DAVReport, bool) {
	list := r.DAV
	if want.Kind == "jmap" {
		list = r.JMAP
	}
	for _, d := range list {
		if d.Kind == want.Kind && d.URL == want.URL {
			return d, true
		}
	}
	return DAVReport{}, false
}

// TestDAVScenariosFindTheHomesAfterALogin probes every scenario with
// calendar, contacts or JMAP services with its password (and, where the
// DAV host needs it, the user's consent): each expected service is proven,
// its home set (or JMAP API URL) found, the settings carry the calendar
// and contacts URLs, and the password reached only the hosts expected.
func TestDAVScenariosFindTheHomesAfterALogin(t *testing.T) {
	w := startWorld(t, 0, "calendar-contacts", "dav-elsewhere")
	for _, sc := range w.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			opts := consentedOptions(w, sc)
			allowed := map[string]bool{sc.Expect.Incoming.Address(): true, sc.Expect.Outgoing.Address(): true}
			for _, d := range sc.Expect.DAV {
				allowed[davHostPort(d.URL)] = true
			}
			rep, err := Run(t.Context(), opts, sc.Address)
			if err != nil {
				t.Fatal(err)
			}
			settings := rep.Settings()
			for _, want := range sc.Expect.DAV {
				got, ok := findDAV(rep, want)
				if !ok {
					t.Fatalf("%s %s not reported; dav %+v jmap %+v; lookups %+v", want.Kind, want.URL, rep.DAV, rep.JMAP, rep.Lookups)
				}
				if got.Status != DAVProven || got.Login != LoginOK || got.LoginDetail == nil || got.LoginDetail.Username != sc.Login() {
					t.Errorf("%s: status %s, login %s %+v, error %q; want proven with %s", want.Kind, got.Status, got.Login, got.LoginDetail, got.Error, sc.Login())
				}
				home := got.APIURL
				if want.Kind != "jmap" {
					home = strings.Join(got.HomeSets, " ")
					if !strings.HasSuffix(got.Principal, "/alice/") {
						t.Errorf("%s: principal %q", want.Kind, got.Principal)
					}
					s, ok := settings.FirstDAV(autoconfig.DAVKind(want.Kind))
					if !ok || s.URL != want.URL || s.Username != autoconfig.PlaceholderAddress {
						t.Errorf("settings' %s = %+v, %v; want %s with %%EMAILADDRESS%%", want.Kind, s, ok, want.URL)
					}
				}
				if home != want.Home {
					t.Errorf("%s: home %q, want %q", want.Kind, home, want.Home)
				}
				if got.TLS == nil || !got.TLS.Valid {
					t.Errorf("%s: TLS %+v", want.Kind, got.TLS)
				}
			}
			if err := settings.Validate(); err != nil {
				t.Errorf("settings with DAV do not validate: %v", err)
			}
			for _, hostport := range w.PasswordSightings() {
				if inScenario(sc, hostport) && !allowed[hostport] {
					t.Errorf("the password reached %s", hostport)
				}
			}
		})
	}
}

// TestDAVPlaintextRecordIsReportedNeverUsed: the _caldav record for plain
// http is listed, and the password never reaches port 80.
func TestDAVPlaintextRecordIsReportedNeverUsed(t *testing.T) {
	w := startWorld(t, 0, "calendar-contacts")
	sc := w.Scenarios()[0]
	rep, err := Run(t.Context(), worldOptions(w, sc), sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.DAV, func(d DAVReport) bool { return strings.HasPrefix(d.URL, "http://") })
	if i < 0 || rep.DAV[i].Status != DAVPlaintext || rep.DAV[i].Login != "" {
		t.Fatalf("plain http service not reported as such: %+v", rep.DAV)
	}
	if w.PasswordSeenAt("dav.groupware.test", 80) {
		t.Errorf("the password went to the plain http service")
	}
}

// TestDAVWithoutConsentGetsNoPassword: a DAV host in another domain that
// only unauthenticated SRV records name is checked without the password,
// marked not confirmed, and left out of the settings.
func TestDAVWithoutConsentGetsNoPassword(t *testing.T) {
	w := startWorld(t, 0, "dav-elsewhere")
	sc := w.Scenarios()[0]
	rep, err := Run(t.Context(), worldOptions(w, sc), sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.DAV) != 2 {
		t.Fatalf("dav = %+v, want the CalDAV and CardDAV services", rep.DAV)
	}
	for _, d := range rep.DAV {
		if d.Status != DAVFailed && d.Status != DAVVerified || d.NotConfirmed != NotConfirmed ||
			d.Login != LoginSkipped || d.LoginDetail == nil || d.LoginDetail.Kind != LoginKindNotConfirmed {
			t.Errorf("%s: status %s, not_confirmed %q, login %s %+v", d.Kind, d.Status, d.NotConfirmed, d.Login, d.LoginDetail)
		}
	}
	if w.PasswordSeenBy("cloud.dav-hosting.test") {
		t.Errorf("the password reached the DAV host in another domain without consent")
	}
	if s := rep.Settings(); s == nil || len(s.DAV) != 0 {
		t.Errorf("settings carry unconfirmed DAV services: %+v", s)
	}
}

// TestDAVWithoutPasswordIsVerifiedByTLS: without a password the services
// are verified (valid TLS, a DAV answer) and the settings carry them.
func TestDAVWithoutPasswordIsVerifiedByTLS(t *testing.T) {
	w := startWorld(t, 0, "calendar-contacts")
	sc := w.Scenarios()[0]
	opts := worldOptions(w, sc)
	opts.Password = nil
	rep, err := Run(t.Context(), opts, sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range sc.Expect.DAV {
		got, ok := findDAV(rep, want)
		if !ok || got.Status != DAVVerified || got.Login != "" || len(got.HomeSets) != 0 {
			t.Errorf("%s: %+v, want verified without a login", want.Kind, got)
		}
	}
	s := rep.Settings()
	if s == nil || len(s.DAV) != 2 {
		t.Fatalf("settings' DAV = %+v, want CalDAV and CardDAV", s)
	}
	if len(w.PasswordSightings()) != 0 {
		t.Errorf("passwords seen: %v", w.PasswordSightings())
	}
}

// TestDAVRefusalCountsInTheIncomingTwo: with a wrong password the mail
// logins use up the incoming direction's two refusals, so no DAV login is
// tried at all (a provider counts DAV failures against the same account).
func TestDAVRefusalCountsInTheIncomingTwo(t *testing.T) {
	w := startWorld(t, 0, "calendar-contacts")
	sc := w.Scenarios()[0]
	opts := worldOptions(w, sc)
	opts.Password = []byte("wrong-" + sc.Password)
	rep, err := Run(t.Context(), opts, sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, s := range rep.Servers {
		if s.Login == LoginFailed && s.Protocol != autoconfig.SMTP {
			refused++
		}
	}
	for _, d := range append(slices.Clone(rep.DAV), rep.JMAP...) {
		if d.Login == LoginFailed {
			refused++
		}
	}
	if i := slices.IndexFunc(rep.DAV, func(d DAVReport) bool { return d.Login == LoginSkipped }); i < 0 {
		t.Errorf("no DAV login was held back: %+v", rep.DAV)
	}
	if refused > maxFailures {
		t.Errorf("%d refused logins in the incoming direction (mail, DAV and JMAP), want at most %d", refused, maxFailures)
	}
}
