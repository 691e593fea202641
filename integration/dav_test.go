package integration

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe"
)

// TestProbeFindsRadicale discovers Debian's Radicale, which the script
// starts on the good site with the script's CA and a bcrypt htpasswd file,
// through _caldavs/_carddavs SRV records without a TXT path= (so through
// Radicale's own /.well-known redirects on the SRV target, RFC 6764 §6),
// logs in with HTTP Basic, and reads the principal and the home sets.
func TestProbeFindsRadicale(t *testing.T) {
	r := needServers(t)
	port, err := strconv.Atoi(os.Getenv("MAILSETUP_REAL_DAV_PORT"))
	if err != nil || port <= 0 {
		t.Fatalf("MAILSETUP_REAL_DAV_PORT = %q: start the servers with scripts/realservers.sh, which starts Radicale", os.Getenv("MAILSETUP_REAL_DAV_PORT"))
	}
	z := &zone{r: r}
	publishSRV(z, r.Good)
	davHost := r.Good.Host("dav")
	for _, label := range []string{"_caldavs", "_carddavs"} {
		owner := dns.Fqdn(label + "._tcp." + r.Good.Domain)
		z.srv[owner] = append(z.srv[owner], srvRecord(owner, uint16(port), davHost))
	}
	rep := r.runProbe(t, z, r.Good.Email(r), r.Password)
	if rep.Status != probe.StatusOK {
		t.Fatalf("status %s; warnings %q", rep.Status, rep.Warnings)
	}
	origin := "https://" + davHost + ":" + strconv.Itoa(port)
	for _, kind := range []string{"caldav", "carddav"} {
		var got *probe.DAVReport
		for i, d := range rep.DAV {
			if d.Kind == kind && strings.HasPrefix(d.URL, origin+"/") {
				got = &rep.DAV[i]
				break
			}
		}
		if got == nil {
			t.Errorf("%s at %s not found; dav %+v; lookups %+v", kind, origin, rep.DAV, rep.Lookups)
			continue
		}
		t.Logf("%s: %s principal %s homes %v", kind, got.URL, got.Principal, got.HomeSets)
		if got.Status != probe.DAVProven || got.Login != probe.LoginOK {
			t.Errorf("%s: status %s, login %s, error %q; want proven by a login", kind, got.Status, got.Login, got.Error)
		}
		// Radicale's principal is /USER/ with the user percent-encoded,
		// and it is its own calendar and address-book home.
		wantPrincipal := origin + "/" + strings.ReplaceAll(r.Good.Email(r), "@", "%40") + "/"
		if got.Principal != wantPrincipal {
			t.Errorf("%s: principal %q, want %q", kind, got.Principal, wantPrincipal)
		}
		if len(got.HomeSets) != 1 || got.HomeSets[0] != wantPrincipal {
			t.Errorf("%s: home sets %q, want [%s]", kind, got.HomeSets, wantPrincipal)
		}
	}
	s := rep.Settings()
	if s == nil {
		t.Fatal("no settings")
	}
	for _, k := range []autoconfig.DAVKind{autoconfig.CalDAV, autoconfig.CardDAV} {
		if d, ok := s.FirstDAV(k); !ok || !strings.HasPrefix(d.URL, origin+"/") {
			t.Errorf("settings' %s = %+v, %v", k, d, ok)
		}
	}
	if err := s.Validate(); err != nil {
		t.Errorf("settings: %v", err)
	}
}
