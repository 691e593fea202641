package account

import (
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe"
)

// Only a login that worked proves settings; "pinned" and "plaintext" say
// how the connection was trusted, so the servers' login results decide.
func TestProvenByLogin(t *testing.T) {
	in := probe.Endpoint{Protocol: autoconfig.IMAP, Host: "imap.a.test", Port: 993, Security: autoconfig.SecurityTLS}
	out := probe.Endpoint{Protocol: autoconfig.SMTP, Host: "smtp.a.test", Port: 465, Security: autoconfig.SecurityTLS}
	server := func(e probe.Endpoint, login probe.LoginStatus) probe.ServerReport {
		return probe.ServerReport{Protocol: e.Protocol, Host: e.Host, Port: e.Port, Security: e.Security, Login: login}
	}
	for _, tc := range []struct {
		confidence string
		servers    []probe.ServerReport
		want       bool
	}{
		{probe.ConfidenceLogin, nil, true},
		{probe.ConfidenceTLS, nil, false},
		{probe.ConfidenceUnconfirmed, nil, false},
		{probe.ConfidenceLoginRejected, nil, false},
		{probe.ConfidencePinned, []probe.ServerReport{server(in, probe.LoginOK), server(out, probe.LoginOK)}, true},
		{probe.ConfidencePinned, []probe.ServerReport{server(in, probe.LoginOK), server(out, probe.LoginSkipped)}, false},
		{probe.ConfidencePlaintext, []probe.ServerReport{server(in, probe.LoginSkipped)}, false},
	} {
		rep := &probe.Report{Servers: tc.servers, Recommendation: &probe.Recommendation{Confidence: tc.confidence, Incoming: in, Outgoing: &out}}
		if got := provenByLogin(rep); got != tc.want {
			t.Errorf("confidence %s, servers %v: proven %v, want %v", tc.confidence, tc.servers, got, tc.want)
		}
	}
}
