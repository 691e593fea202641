package netx

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestResolverFromConf(t *testing.T) {
	z := &testZone{records: []string{"a.test. 60 IN MX 10 mx.a.test."}}
	addr := startDNS(t, z)
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	// Two TEST-NET servers: the first refuses, the second is mapped onto
	// the test server. The resolver must go on to the second.
	if err := os.WriteFile(conf, []byte("nameserver 192.0.2.1\nnameserver 192.0.2.2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := resolverFromConf(conf, plan(map[string]string{"192.0.2.2:53": addr}))
	mx, _, err := r.LookupMX(testCtx(t), "a.test")
	if err != nil || len(mx) != 1 {
		t.Errorf("MX via resolv.conf = %v, %v; want the second server's answer", mx, err)
	}

	if _, ok := resolverFromConf(filepath.Join(dir, "missing"), &net.Dialer{}).(osResolver); !ok {
		t.Error("without resolv.conf, want the operating system's resolver")
	}
}
