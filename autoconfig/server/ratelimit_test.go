package server

import (
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(60, 3)
	now := time.Unix(1000, 0)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for i := range 3 {
		if !l.allow(a, now) {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	if l.allow(a, now) {
		t.Fatal("request over the burst allowed")
	}
	if !l.allow(b, now) {
		t.Fatal("another client is limited too")
	}
	if !l.allow(a, now.Add(time.Second)) || l.allow(a, now.Add(time.Second)) {
		t.Fatal("the bucket does not refill at one per second")
	}
	// IPv6 clients count per /64.
	v6a, v6b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::ffff:2")
	for range 3 {
		l.allow(v6a, now)
	}
	if l.allow(v6b, now) {
		t.Fatal("another address in the same /64 is not limited")
	}
}

func TestLimiterBoundsMemory(t *testing.T) {
	l := newLimiter(60, 1)
	now := time.Unix(1000, 0)
	for i := range 64 * maxBucketsPerShard * 2 {
		l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now)
	}
	for i := range l.shards {
		if n := len(l.shards[i].buckets); n > maxBucketsPerShard {
			t.Fatalf("shard %d holds %d buckets", i, n)
		}
	}
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct", "192.0.2.7:5000", nil, "192.0.2.7"},
		{"untrusted peer's header ignored", "192.0.2.7:5000", []string{"198.51.100.1"}, "192.0.2.7"},
		{"trusted proxy", "10.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client-chosen entries skipped", "10.0.0.1:5000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two proxies", "10.0.0.1:5000", []string{"198.51.100.1, 10.0.0.9"}, "198.51.100.1"},
		{"two headers", "10.0.0.1:5000", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"garbled", "10.0.0.1:5000", []string{"nonsense"}, "10.0.0.1"},
		{"IPv6", "[2001:db8::1]:5000", nil, "2001:db8::1"},
		{"entry with port", "10.0.0.1:5000", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6 entry with port", "10.0.0.1:5000", []string{"[2001:db8::7]:4711"}, "2001:db8::7"},
		{"proxy entry with port skipped", "10.0.0.1:5000", []string{"198.51.100.1, 10.0.0.9:80"}, "198.51.100.1"},
		{"mapped IPv4 entry with port", "10.0.0.1:5000", []string{"[::ffff:198.51.100.1]:4711"}, "198.51.100.1"},
		{"port without address", "10.0.0.1:5000", []string{":4711"}, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, proxies); got.String() != tt.want {
				t.Errorf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestRateLimitServed checks the limit end to end: a client over its burst
// gets 429, /healthz is never limited, and clients behind a trusted proxy
// are counted apart.
func TestRateLimitServed(t *testing.T) {
	base, err := os.ReadFile("testdata/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(base), "per_minute: 0", "per_minute: 1\n  burst: 2\n  trusted_proxies: [127.0.0.0/8]", 1)
	cfg, err := ParseConfig([]byte(yaml), "testdata/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, ts, _ := startServer(t, cfg)
	get := func(xff string) int {
		req, _ := http.NewRequest("GET", ts.URL+"/mail/config-v1.1.xml", nil)
		req.Host = "example.test"
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if a, b, c := get("198.51.100.1"), get("198.51.100.1"), get("198.51.100.1"); a != 200 || b != 200 || c != 429 {
		t.Fatalf("statuses %d %d %d, want 200 200 429", a, b, c)
	}
	if s := get("198.51.100.2"); s != 200 {
		t.Fatalf("another client behind the proxy got %d", s)
	}
	if resp, _ := fetch(t, ts, "GET", "x", "/healthz", "", nil); resp.StatusCode != 200 {
		t.Fatalf("healthz limited: %d", resp.StatusCode)
	}
}
