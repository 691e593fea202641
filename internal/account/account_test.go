package account

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

func provider(t *testing.T, name string) *autoconfig.Provider {
	t.Helper()
	f, err := os.Open("../../profiles/testdata/providers/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, _, err := autoconfig.ReadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func address(t *testing.T, s string) autoconfig.Address {
	t.Helper()
	a, err := autoconfig.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func kinds(ns []Notice) []NoticeKind {
	var out []NoticeKind
	for _, n := range ns {
		out = append(out, n.Kind)
	}
	return out
}

func TestRenderUsesEveryAnswer(t *testing.T) {
	s := Settings{Provider: provider(t, "imap-pop3.xml")}
	r, err := Render(s, address(t, "jane@example.test"), Answers{Name: "Jane Doe", Protocol: autoconfig.POP3, Username: "jdoe",
		Formats: profiles.AllFormats, AutodiscoverPath: `C:\mail\autodiscover.xml`, Password: []byte("secret")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Protocol != autoconfig.POP3 || r.Account.In().Username != "jdoe" || r.Account.DisplayName != "Jane Doe" {
		t.Errorf("account = %+v", r.Account)
	}
	// POP3: the clients' own "remove from server after N days" is the
	// writers' caveat, told once for the files it concerns.
	if got := kinds(r.Notices); len(got) != 2 || got[0] != NoticeSecretFile || got[1] != NoticeCaveat ||
		r.Notices[1].Caveat.Kind != profiles.CaveatPOP3RemoveAfter || len(r.Notices[1].Files) != 2 {
		t.Errorf("notices = %+v, want the secret Apple profile and the POP3 caveat", r.Notices)
	}
	for _, f := range r.Files {
		if f.Path == "thunderbird/user.js" && !bytes.Contains(f.Data, []byte(`"jdoe"`)) {
			t.Errorf("user.js lacks the login name:\n%s", f.Data)
		}
	}
}

// Without the Outlook path the .reg gets a placeholder, and a notice says so.
func TestRenderNoticesThePlaceholderPath(t *testing.T) {
	r, err := Render(Settings{Provider: provider(t, "imap-pop3.xml")}, address(t, "jane@example.test"),
		Answers{Name: "Jane", Formats: []profiles.Format{profiles.Outlook}})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(r.Notices); len(got) != 1 || got[0] != NoticeAutodiscoverPlaceholder || r.Notices[0].File != outlookRegPath {
		t.Errorf("notices = %+v", r.Notices)
	}
}

// A non-ASCII address costs only the Android files.
func TestRenderOmitsOnlyWhatCannotBeMade(t *testing.T) {
	r, err := Render(Settings{Provider: provider(t, "imap-pop3.xml")}, address(t, "jörg@example.test"),
		Answers{Name: "Jörg", Formats: []profiles.Format{profiles.Android, profiles.Sheet}})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(r.Notices); len(got) != 1 || got[0] != NoticeOmitted || r.Notices[0].Format != profiles.Android {
		t.Errorf("notices = %+v", r.Notices)
	}
	if len(r.Files) == 0 {
		t.Error("the setup sheet was not rendered")
	}
}

func TestFromReportSaysWhyThereAreNoSettings(t *testing.T) {
	for status, want := range map[probe.Status]error{
		probe.StatusNothingFound: ErrNothingWorks,
		probe.StatusInsecureOnly: ErrInsecureOnly,
		probe.StatusTimedOut:     ErrNothingWorks,
	} {
		if _, err := FromReport(&probe.Report{Status: status}); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", status, err, want)
		}
	}
	rep := &probe.Report{Domain: "example.test", Recommendation: &probe.Recommendation{Protocol: autoconfig.IMAP,
		Incoming: probe.Endpoint{Protocol: autoconfig.IMAP, Host: "imap.example.test", Port: 993, Security: autoconfig.SecurityTLS}}}
	if _, err := FromReport(rep); !errors.Is(err, ErrNoOutgoing) {
		t.Errorf("no SMTP server: %v", err)
	}
}
