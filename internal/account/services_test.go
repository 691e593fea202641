package account

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/mailsetup/mailsetup/profiles"
)

func TestParseServices(t *testing.T) {
	for in, want := range map[string][]Service{
		"all":                    AllServices,
		"mail":                   {ServiceMail},
		" Contacts , mail":       {ServiceMail, ServiceContacts},
		"mail,calendar,calendar": {ServiceMail, ServiceCalendar},
	} {
		got, err := ParseServices(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseServices(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"calendar,contacts", "", "mail,jmap", "mail,"} {
		if _, err := ParseServices(in); !errors.Is(err, ErrBadServices) {
			t.Errorf("ParseServices(%q) = %v, want ErrBadServices", in, err)
		}
	}
}

// hasDAV reports which of the DAV parts the rendered files carry, by the
// marks every format leaves: the Apple payload types, the user.js prefs,
// the config-v1.1 elements and the sheet's rows.
func hasDAV(files []profiles.File) (calendar, contacts []string) {
	marks := map[string][2]string{
		"thunderbird/user.js":             {"calendar.registry.", "carddav.url"},
		"thunderbird/isp/dav.test.xml":    {"<calendar ", "<addressbook "},
		"apple/kim@dav.test.mobileconfig": {"com.apple.caldav.account", "com.apple.carddav.account"},
		"sheet/setup.txt":                 {"Calendar (CalDAV)", "Contacts (CardDAV)"},
		"android/README.txt":              {"Calendar (CalDAV)", "Contacts (CardDAV)"},
	}
	for _, f := range files {
		m, ok := marks[f.Path]
		if !ok {
			continue
		}
		if bytes.Contains(f.Data, []byte(m[0])) {
			calendar = append(calendar, f.Path)
		}
		if bytes.Contains(f.Data, []byte(m[1])) {
			contacts = append(contacts, f.Path)
		}
	}
	return calendar, contacts
}

// The services choice reaches every format through the one pipeline: what
// is not chosen is in no file, what is chosen but not offered is a Notice,
// and nil (no --services) sets up everything found.
func TestRenderHonoursServices(t *testing.T) {
	settings := Settings{Provider: provider(t, "dav-split.xml")}
	settings.Provider.Domains = append(settings.Provider.Domains, "dav.test")
	addr := address(t, "kim@dav.test")
	for _, tc := range []struct {
		services           []Service
		calendar, contacts bool
		setUp              []Service
	}{
		{nil, true, true, AllServices},
		{[]Service{ServiceMail}, false, false, []Service{ServiceMail}},
		{[]Service{ServiceMail, ServiceContacts}, false, true, []Service{ServiceMail, ServiceContacts}},
		{[]Service{ServiceMail, ServiceCalendar}, true, false, []Service{ServiceMail, ServiceCalendar}},
	} {
		r, err := Render(settings, addr, Answers{Formats: profiles.AllFormats, Services: tc.services})
		if err != nil {
			t.Fatal(err)
		}
		cal, card := hasDAV(r.Files)
		// The android README names both in one sentence only when they
		// share a URL; dav-split's do not.
		if want := map[bool]int{true: 5, false: 0}; len(cal) != want[tc.calendar] || len(card) != want[tc.contacts] {
			t.Errorf("services %v: calendar in %v, contacts in %v", tc.services, cal, card)
		}
		if !slices.Equal(r.Services, tc.setUp) {
			t.Errorf("services %v: Rendered.Services = %v, want %v", tc.services, r.Services, tc.setUp)
		}
		if slices.Contains(kinds(r.Notices), NoticeServiceNotFound) {
			t.Errorf("services %v: a service was reported missing: %+v", tc.services, r.Notices)
		}
	}

	// A provider without calendar and contacts: asked for, they are named
	// as not found; not asked for (nil), nothing is said.
	plain := Settings{Provider: provider(t, "imap-pop3.xml")}
	r, err := Render(plain, address(t, "jane@example.test"), Answers{Formats: profiles.AllFormats, Services: AllServices})
	if err != nil {
		t.Fatal(err)
	}
	var missing []Service
	for _, n := range r.Notices {
		if n.Kind == NoticeServiceNotFound {
			missing = append(missing, n.Service)
		}
	}
	if !slices.Equal(missing, []Service{ServiceCalendar, ServiceContacts}) || !slices.Equal(r.Services, []Service{ServiceMail}) {
		t.Errorf("asked for all on a mail-only provider: missing %v, set up %v", missing, r.Services)
	}
	if r, _ := Render(plain, address(t, "jane@example.test"), Answers{Formats: profiles.AllFormats}); slices.Contains(kinds(r.Notices), NoticeServiceNotFound) {
		t.Errorf("no --services on a mail-only provider gives notices %v", r.Notices)
	}
}

// The person's login name goes to the calendar and contacts too.
func TestRenderUsernameReachesDAV(t *testing.T) {
	settings := Settings{Provider: provider(t, "dav-split.xml")}
	r, err := Render(settings, address(t, "sam@split.test"), Answers{Formats: []profiles.Format{profiles.Thunderbird}, Username: "s.roe"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Files {
		if f.Path == "thunderbird/user.js" && (bytes.Count(f.Data, []byte(`"s.roe"`)) != 4 || bytes.Contains(f.Data, []byte(`"sam"`))) {
			t.Errorf("user.js does not log in as s.roe everywhere:\n%s", f.Data)
		}
	}
}
