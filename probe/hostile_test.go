package probe

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/internal/testnet"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// stallingPeer is a loopback server that never finishes what it started:
// it accepts connections and plays serve on each, and counts those still
// open, so a test can tell that the prober closed every one it opened.
type stallingPeer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]bool // open ones
	wg    sync.WaitGroup
}

func startStallingPeer(t *testing.T, serve func(net.Conn)) *stallingPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingPeer{ln: ln, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns[c] = true
			p.mu.Unlock()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer func() {
					c.Close()
					p.mu.Lock()
					delete(p.conns, c)
					p.mu.Unlock()
				}()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		// Connections the prober leaked are ended here, so a failing
		// test still finishes.
		ln.Close()
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *stallingPeer) stillOpen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// untilClosed reads and drops what the client sends until it hangs up:
// the server side of a connection that will never answer.
func untilClosed(c net.Conn) { io.Copy(io.Discard, c) }

// drip starts a greeting and then sends one byte a second, never a line
// end, until the client hangs up: every read the client makes succeeds, so
// only a deadline that no library resets can end it.
func drip(first string) func(net.Conn) {
	return func(c net.Conn) {
		hungUp := make(chan struct{})
		go func() {
			untilClosed(c)
			close(hungUp)
		}()
		if _, err := io.WriteString(c, first); err != nil {
			return
		}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-hungUp:
				return
			case <-tick.C:
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}
}

// hostileEnv names one server per peer by SRV records of example.test and
// points their ports at the peers.
func hostileEnv(peers map[string]*stallingPeer) netx.Env {
	loopback := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	r := &netx.MockResolver{
		SRV: map[string][]netx.SRV{
			"_imaps._tcp.example.test":       {{Target: "imap.example.test", Port: 993}},
			"_imap._tcp.example.test":        {{Target: "imap.example.test", Port: 143}},
			"_pop3s._tcp.example.test":       {{Target: "pop.example.test", Port: 995}},
			"_submissions._tcp.example.test": {{Target: "smtp.example.test", Port: 465}},
			"_submission._tcp.example.test":  {{Target: "smtp.example.test", Port: 587}},
		},
		Addrs: map[string][]netip.Addr{
			"imap.example.test": loopback,
			"pop.example.test":  loopback,
			"smtp.example.test": loopback,
		},
	}
	d := &testnet.Dialer{}
	for port, p := range peers {
		d.Route(":"+port, p.ln.Addr().String())
	}
	return netx.Env{Resolver: r, Dialer: d}
}

// TestRunEndsWithItsBudgetAgainstStallingServers probes servers that each
// stall in a different place (mid TLS handshake, mid greeting one byte a
// second, mid STARTTLS) with per-attempt timeouts far beyond the budget, so
// that the budget alone must end every check and login: Run returns within
// budget plus grace and every connection it opened is closed.
func TestRunEndsWithItsBudgetAgainstStallingServers(t *testing.T) {
	peers := map[string]*stallingPeer{
		"993": startStallingPeer(t, untilClosed),                           // accepts TLS, never answers the ClientHello
		"995": startStallingPeer(t, drip("")),                              // TLS records that never complete
		"143": startStallingPeer(t, drip("* OK [CAPABILITY IMAP4rev1 ST")), // a greeting that never ends
		"465": startStallingPeer(t, untilClosed),
		"587": startStallingPeer(t, drip("220 smtp.example.test ESMTP")),
	}
	const budget = 1500 * time.Millisecond
	opts := Options{
		Env:            hostileEnv(peers),
		Password:       []byte("secret"),
		Timeout:        budget,
		AttemptTimeout: time.Minute,
		GuessDelay:     time.Hour,
	}
	start := time.Now()
	rep, err := Run(t.Context(), opts, "alice@example.test")
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Run took %v with a budget of %v", took, budget)
	if took > budget+budgetGrace {
		t.Errorf("Run took %v with a budget of %v", took, budget)
	}
	if rep.Recommendation != nil {
		t.Errorf("recommended %+v from servers that never answered", rep.Recommendation.Incoming)
	}
	deadline := time.Now().Add(budgetGrace)
	for port, p := range peers {
		for p.stillOpen() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := p.stillOpen(); n > 0 {
			t.Errorf("port %s: %d connections still open %v after Run returned; goroutines:\n%s", port, n, budgetGrace, goroutineDump())
		}
	}
}

// TestRunEndsWithItsBudgetWhenDNSNeverAnswers asks a DNS server that reads
// every question and answers none.
func TestRunEndsWithItsBudgetWhenDNSNeverAnswers(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	var d net.Dialer
	const budget = 1500 * time.Millisecond
	opts := Options{
		Env:            netx.Env{Resolver: netx.NewDNSResolver(pc.LocalAddr().String(), &d), Dialer: &d},
		Password:       []byte("secret"),
		Timeout:        budget,
		AttemptTimeout: time.Minute,
	}
	start := time.Now()
	rep, err := Run(t.Context(), opts, "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > budget+budgetGrace {
		t.Errorf("Run took %v with a budget of %v", took, budget)
	}
	if rep.Status == StatusOK {
		t.Errorf("status ok without a single DNS answer")
	}
}
