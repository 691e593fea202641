package verify

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// turnCounter counts the round trips a conversation costs, the way the
// sandbox charges latency: one for the TCP connect, and one each time the
// client waits for the server (its first read, and every read that follows
// a write).
type turnCounter struct {
	netx.Dialer
	mu    sync.Mutex
	turns int
}

func (d *turnCounter) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.Dialer.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	d.add()
	return &turnConn{Conn: c, d: d, wrote: true}, nil
}

func (d *turnCounter) add() {
	d.mu.Lock()
	d.turns++
	d.mu.Unlock()
}

func (d *turnCounter) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.turns
}

type turnConn struct {
	net.Conn
	d     *turnCounter
	mu    sync.Mutex
	wrote bool
}

func (c *turnConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.wrote {
		c.d.add()
		c.wrote = false
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

func (c *turnConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.wrote = true
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// roundTrips is what one Check and one successful Login cost against go-imap's imapserver,
// go-smtp and the POP3 responder of the tests (TLS 1.3). The orchestrator
// and the sandbox's critical paths count on these; a change here is a
// change in every probe's latency.
var roundTrips = []struct {
	proto autoconfig.Protocol
	port  int
	sec   autoconfig.Security
	check int
	login int
}{
	// Check: connect, TLS, greeting (with capabilities).
	// Login: connect, TLS, greeting, AUTHENTICATE PLAIN (SASL-IR).
	{autoconfig.IMAP, 993, autoconfig.SecurityTLS, 3, 4},
	// Check: connect, greeting (with capabilities), STARTTLS, TLS,
	// CAPABILITY. Login: connect, greeting, STARTTLS, TLS, CAPABILITY,
	// AUTHENTICATE — Login sends STARTTLS before the greeting has been
	// read, which usually saves one.
	{autoconfig.IMAP, 143, autoconfig.SecuritySTARTTLS, 5, 6},
	// Check: connect, TLS, greeting, CAPA. Login: the same, AUTH PLAIN.
	{autoconfig.POP3, 995, autoconfig.SecurityTLS, 4, 5},
	// Check: connect, greeting, CAPA, STLS, TLS, CAPA. Login: connect,
	// greeting, STLS, TLS, CAPA, AUTH PLAIN.
	{autoconfig.POP3, 110, autoconfig.SecuritySTARTTLS, 6, 6},
	// Check: connect, TLS, greeting, EHLO. Login: the same, AUTH PLAIN.
	{autoconfig.SMTP, 465, autoconfig.SecurityTLS, 4, 5},
	// Check: connect, greeting, EHLO, STARTTLS, TLS, EHLO. Login: the
	// same, AUTH PLAIN.
	{autoconfig.SMTP, 587, autoconfig.SecuritySTARTTLS, 6, 7},
}

func TestCheckRoundTrips(t *testing.T) {
	for _, tc := range roundTrips {
		t.Run(fmt.Sprintf("%s-%d", tc.proto, tc.port), func(t *testing.T) {
			w := newWorld(t)
			host := "mail.example.test"
			w.serve(tc.proto, host, tc.port, tc.sec, w.good(host))
			opts := w.opts()
			counter := &turnCounter{Dialer: opts.Env.Dialer}
			opts.Env.Dialer = counter
			res := Check(context.Background(), opts, server(tc.proto, host, tc.port, tc.sec))
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if got := counter.count(); got != tc.check {
				t.Errorf("Check took %d round trips, want %d", got, tc.check)
			}
			counter.turns = 0
			if lr := Login(context.Background(), opts, server(tc.proto, host, tc.port, tc.sec), testUser, []byte(testPassword)); lr.Status != LoginOK {
				t.Fatal(lr.Err)
			}
			// imapclient reads in the background: the counter may also
			// see the answer to the LOGOUT that Login sends on its way out
			// without waiting for it.
			bound := tc.login
			if tc.proto == autoconfig.IMAP {
				bound++
			}
			if got := counter.count(); got > bound {
				t.Errorf("Login took %d round trips, want at most %d", got, bound)
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	for _, tc := range roundTrips {
		b.Run(fmt.Sprintf("%s-%d", tc.proto, tc.port), func(b *testing.B) {
			w := newWorld(b)
			host := "mail.example.test"
			w.serve(tc.proto, host, tc.port, tc.sec, w.good(host))
			opts := w.opts()
			s := server(tc.proto, host, tc.port, tc.sec)
			b.ReportAllocs()
			for b.Loop() {
				if res := Check(context.Background(), opts, s); res.Err != nil {
					b.Fatal(res.Err)
				}
			}
		})
	}
}
