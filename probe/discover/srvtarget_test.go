package discover

import (
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/probe/netx"
)

// An SRV target is a host name from outside and goes through the model's
// one check (autoconfig.ParseHostname, issue 13): a bad one is dropped with
// its reason in the lookup, never used; the good ones beside it are kept,
// in A-label form.
func TestBadSRVTargetIsDroppedWithAReason(t *testing.T) {
	w := newTestWorld(t)
	w.resolver.SRV["_imaps._tcp.a.test"] = []netx.SRV{
		{Target: "imap\nSMTPServer=attacker.test", Port: 993, Priority: 1},
		{Target: "IMAP.a.test.", Port: 993, Priority: 2},
	}
	w.resolver.SRV["_submissions._tcp.a.test"] = []netx.SRV{{Target: "localhost", Port: 465}}
	opts := w.options()
	opts.GuessDelay = -1
	res := runWorld(t, w, opts, alice)
	for _, c := range res.Candidates {
		if strings.Contains(c.Server.Hostname, "\n") || c.Server.Hostname == "localhost" {
			t.Errorf("a bad SRV target became a candidate: %q", c.Server.Hostname)
		}
	}
	found := false
	for _, c := range res.Candidates {
		found = found || c.Server.Hostname == "imap.a.test" && c.Server.Port == 993
	}
	if !found {
		t.Errorf("the good target beside the bad one is missing: %+v", res.Candidates)
	}
	for _, l := range lookupsOf(res, MethodSRV) {
		switch l.Target {
		case "_imaps._tcp.a.test":
			if l.Status != StatusFound || !strings.Contains(l.Error, "target dropped") || !strings.Contains(l.Error, "line break") {
				t.Errorf("lookup %s: status %s, note %q; want found, with the dropped target's reason", l.Target, l.Status, l.Error)
			}
		case "_submissions._tcp.a.test":
			if l.Status != StatusError || !strings.Contains(l.Error, "localhost") {
				t.Errorf("lookup %s: status %s, note %q; want error naming the dropped target", l.Target, l.Status, l.Error)
			}
		}
	}
}
