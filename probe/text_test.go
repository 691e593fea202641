package probe

import (
	"strings"
	"testing"
)

func TestWriteText(t *testing.T) {
	cs := []*candidate{
		loggedIn(synth(pop3, "pop.example.test", 995, tls, checkPassed, "autoconfig"), "alice@example.test"),
		loggedIn(synth(smtp, "smtp.example.test", 465, tls, checkPassed, "autoconfig"), "alice@example.test"),
		synth(imap, "imap.example.test", 993, tls, checkInsecure, "autoconfig"),
	}
	c := conclude(alice, "example.test", cs, true)
	r := &Report{Email: "alice@example.test", Domain: "example.test", Status: c.status, Recommendation: c.rec, Warnings: c.warnings}
	for _, x := range cs {
		r.Servers = append(r.Servers, x.serverReport())
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Probe of alice@example.test",
		"  POP3  pop.example.test:995   SSL/TLS  autoconfig  works, login ok",
		"Recommended: POP3",
		"  Incoming  POP3  pop.example.test   port 995  SSL/TLS  username alice@example.test  normal password",
		"Leave messages on server: on",
		"Without IMAP: IMAP would have kept",
		"Proven by: a successful login",
		"IMAP imap.example.test:993 was not used: its certificate is not valid",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}

	none := &Report{Domain: "example.test", Status: StatusNothingFound, Lookups: []Lookup{{Method: "srv", Target: "_imaps._tcp.example.test", Status: "none"}}}
	b.Reset()
	none.WriteText(&b)
	if out := b.String(); !strings.Contains(out, "Nothing works") || !strings.Contains(out, "What was tried\n  srv  _imaps._tcp.example.test  none\n") {
		t.Errorf("nothing-found report:\n%s", out)
	}
}
