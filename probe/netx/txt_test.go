package netx

import (
	"errors"
	"net"
	"strings"
	"testing"
)

// TestDNSResolverTXT joins each record's strings, and refuses an answer
// larger than MaxTXTSize (RFC 6764 path= records are a few dozen bytes).
func TestDNSResolverTXT(t *testing.T) {
	big := strings.Repeat("a", 250)
	z := &testZone{records: []string{
		`_caldavs._tcp.a.test. 60 IN TXT "path=/dav/" "cal/"`,
		`_carddavs._tcp.a.test. 60 IN TXT "path=/card/"`,
	}}
	for range 20 {
		z.records = append(z.records, `huge.a.test. 60 IN TXT "`+big+`"`)
	}
	r := NewDNSResolver(startDNS(t, z), &net.Dialer{})
	txt, _, err := LookupTXT(testCtx(t), r, "_caldavs._tcp.a.test")
	if err != nil || len(txt) != 1 || txt[0] != "path=/dav/cal/" {
		t.Errorf("TXT = %q, %v", txt, err)
	}
	txt, _, err = LookupTXT(testCtx(t), r, "nothing.a.test")
	if err != nil || len(txt) != 0 {
		t.Errorf("TXT of a missing name = %q, %v; want the empty answer", txt, err)
	}
	if _, _, err := LookupTXT(testCtx(t), r, "huge.a.test"); !errors.Is(err, ErrHostileAnswer) {
		t.Errorf("a 5 kB TXT answer: %v, want ErrHostileAnswer", err)
	}
}

// TestLookupTXTWithoutTXTResolver: a resolver written for mail alone gives
// the empty answer.
func TestLookupTXTWithoutTXTResolver(t *testing.T) {
	var r Resolver = struct{ Resolver }{&MockResolver{TXT: map[string][]string{"a.test": {"x"}}}}
	if txt, _, err := LookupTXT(testCtx(t), r, "a.test"); err != nil || len(txt) != 0 {
		t.Errorf("TXT = %q, %v", txt, err)
	}
}
