package netx

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzDNSReply feeds arbitrary bytes to the reply parser and the CNAME
// chaser as an answer to an SRV question: nothing may panic, and whatever
// is accepted stays within MaxRecords.
func FuzzDNSReply(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("_imaps._tcp.a.test.", dns.TypeSRV)
	q.Id = 4242
	for _, answer := range [][]string{
		{"_imaps._tcp.a.test. 60 IN SRV 0 1 993 imap.a.test."},
		{"_imaps._tcp.a.test. 60 IN CNAME b.a.test.", "b.a.test. 60 IN SRV 0 1 993 imap.a.test."},
		{"_imaps._tcp.a.test. 60 IN CNAME _imaps._tcp.a.test."},
		{"_imaps._tcp.a.test. 60 IN SRV 0 0 0 ."},
	} {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, s := range answer {
			rr, err := dns.NewRR(s)
			if err != nil {
				f.Fatal(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		packed, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(packed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := parseReply(data, q, "fuzz")
		if err != nil {
			return
		}
		hops := 0
		rrs, _, err := chase(msg.Answer, q.Question[0].Name, dns.TypeSRV, map[string]bool{}, &hops)
		if err == nil && len(rrs) > MaxRecords {
			t.Fatalf("accepted %d records", len(rrs))
		}
		if hops > MaxCNAMEHops+1 {
			t.Fatalf("followed %d CNAMEs", hops)
		}
	})
}
