package sandbox

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
	"github.com/miekg/dns"
)

func TestConnectionFaults(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"blackholed-preferred", "nothing"}})

	// Blackhole: the connect succeeds, nothing is ever said.
	c := dial(t, w, "imap1.blackhole.test:993")
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var ne net.Error
	if _, err := c.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("blackhole read: %v, want a time-out", err)
	}

	// Unreachable: the connect itself hangs until the context ends, and
	// fails as a time-out.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := w.Dialer().DialContext(ctx, "tcp", "smtp1.blackhole.test:465")
	if !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) < 150*time.Millisecond {
		t.Errorf("unreachable dial: %v after %v, want a time-out at the deadline", err, time.Since(start))
	}

	// Refused: a host with no services.
	if _, err := w.Dialer().DialContext(testCtx(t), "tcp", "nothing.test:993"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("dial a host without services: %v, want refused", err)
	}
	refusing := Scenario{Name: "refusing", Password: "x", Domains: []string{"refusing.test"},
		Hosts: []Host{{Name: "imap.refusing.test", Services: []Service{IMAPS().WithFault(FaultRefused)}}}}
	w2 := startWorld(t, Options{Scenarios: []string{}, Extra: []Scenario{refusing}})
	if _, err := w2.Dialer().DialContext(testCtx(t), "tcp", "imap.refusing.test:993"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("FaultRefused: %v, want refused", err)
	}
}

func TestGreetingFaults(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"hostile-servers"}})

	// Close in the greeting: a piece of "* OK", then EOF.
	tc, err := dialTLS(t, w, "imap-a.hostile-servers.test", "993")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(tc)
	if len(got) == 0 || len(got) >= len("* OK ") || !strings.HasPrefix("* OK ", string(got)) {
		t.Errorf("close in greeting: read %q (%v), want a piece of \"* OK \" then the end", got, err)
	}

	// Endless line: more than 4 MiB without a line end, and still going.
	tc, err = dialTLS(t, w, "imap-b.hostile-servers.test", "993")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.CopyN(io.Discard, &noNewline{t: t, r: tc}, 4<<20)
	if err != nil || n != 4<<20 {
		t.Errorf("endless line: read %d bytes, %v", n, err)
	}
	tc.Close()

	// Oversized line: one line of over 1 MiB, then the end.
	tc, err = dialTLS(t, w, "imap-c.hostile-servers.test", "993")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(tc, 4<<20)
	line, err := br.ReadString('\n')
	if err != nil || len(line) < 1<<20 || !strings.HasPrefix(line, "* OK ") {
		t.Errorf("oversized line: %d bytes, %v", len(line), err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the oversized line: %v, want EOF", err)
	}

	// The same faults for SMTP: go-smtp's client gives up on the endless line.
	tc, err = dialTLS(t, w, "smtp-a.hostile-servers.test", "465")
	if err != nil {
		t.Fatal(err)
	}
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	c := smtp.NewClient(tc)
	if err := c.Hello("client.test"); err == nil {
		t.Error("an SMTP client got through an endless greeting")
	}
}

// noNewline fails the test on a line end.
type noNewline struct {
	t *testing.T
	r io.Reader
}

func (n *noNewline) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	if strings.ContainsAny(string(p[:k]), "\r\n") {
		n.t.Error("the endless line ended")
		return k, io.EOF
	}
	return k, err
}

func TestSTARTTLSFails(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"starttls-broken"}})
	sc := scenario(t, "starttls-broken")
	cfg := func(host string) *tls.Config { return tlsFor(w, host) }

	// IMAP: go-imap's client sees STARTTLS fail.
	if _, err := imapclient.NewStartTLS(dial(t, w, "imap.brokentls.test:143"), &imapclient.Options{TLSConfig: cfg("imap.brokentls.test")}); err == nil {
		t.Error("IMAP STARTTLS succeeded")
	}
	// SMTP: STARTTLS is in EHLO, and fails.
	c := smtp.NewClient(dial(t, w, "smtp.brokentls.test:587"))
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Error("EHLO does not advertise STARTTLS")
	}
	if _, err := smtp.NewClientStartTLS(dial(t, w, "smtp.brokentls.test:587"), cfg("smtp.brokentls.test")); err == nil {
		t.Error("SMTP STARTTLS succeeded")
	}
	// POP3: STLS in CAPA, then -ERR; a password sent anyway is refused and
	// recorded.
	p := dial(t, w, "pop.brokentls.test:110")
	br := bufio.NewReader(p)
	br.ReadString('\n')
	exchange := func(cmd string) string {
		fmt.Fprintf(p, "%s\r\n", cmd)
		l, _ := br.ReadString('\n')
		return l
	}
	if l := exchange("CAPA"); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("CAPA: %q", l)
	}
	var caps []string
	for {
		l, err := br.ReadString('\n')
		if err != nil || l == ".\r\n" {
			break
		}
		caps = append(caps, strings.TrimSpace(l))
	}
	if !containsStr(caps, "STLS") {
		t.Errorf("CAPA %q lacks STLS", caps)
	}
	if l := exchange("STLS"); !strings.HasPrefix(l, "-ERR") {
		t.Errorf("STLS: %q, want -ERR", l)
	}
	if w.PasswordSeenBy("pop.brokentls.test") {
		t.Error("password recorded before it was sent")
	}
	exchange("USER " + sc.Address)
	if l := exchange("PASS " + sc.Password); !strings.HasPrefix(l, "-ERR") {
		t.Errorf("PASS without TLS: %q, want -ERR", l)
	}
	if !w.PasswordSeenBy("pop.brokentls.test") {
		t.Error("a password sent to the liar was not recorded")
	}
	if w.PasswordSeenBy("imap.brokentls.test") || w.PasswordSeenBy("smtp.brokentls.test") {
		t.Errorf("sightings %v: only pop.brokentls.test got a password", w.PasswordSightings())
	}
}

// TestLatencyModel checks the round trips an IMAP login over implicit TLS
// costs, and that a host's own latency adds to the world's.
func TestLatencyModel(t *testing.T) {
	const latency = 20 * time.Millisecond
	slow := Scenario{Name: "slow", Password: "pw-slow", Address: "a@slow.test", Domains: []string{"slow.test"},
		Hosts:     []Host{{Name: "imap.slow.test", Latency: 3 * latency, Services: []Service{IMAPS()}}},
		DNSFaults: []DNSFault{{Name: "lagging.slow.test", Kind: DNSSlow, Delay: 3 * latency}}}
	w := startWorld(t, Options{Scenarios: []string{"demo"}, Extra: []Scenario{slow}, Latency: latency})
	sc := scenario(t, "demo")
	tc, err := dialTLS(t, w, "imap.demo.test", "993") // lookup 1, connect 1, TLS 1
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c := imapclient.New(tc, nil)
	defer c.Close()
	if err := c.WaitGreeting(); err != nil { // greeting 1
		t.Fatal(err)
	}
	if err := c.Login(sc.Address, sc.Password).Wait(); err != nil { // LOGIN 1
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*latency {
		t.Errorf("greeting and LOGIN took %v, want at least 2 × %v", d, latency)
	}

	start = time.Now()
	if _, err := w.Dialer().DialContext(testCtx(t), "tcp", "imap.slow.test:993"); err != nil {
		t.Fatal(err)
	}
	// The dialer's lookup (world latency) and the connect (world + host).
	if d := time.Since(start); d < 5*latency {
		t.Errorf("connecting to a slow host took %v, want at least %v", d, 5*latency)
	}
	// A DNS answer about the slow host costs its latency too, and a
	// DNSSlow fault adds its delay to one name's answers.
	for _, tc := range []struct {
		name string
		want time.Duration
	}{{"imap.slow.test", 4 * latency}, {"lagging.slow.test", 4 * latency}} {
		m := new(dns.Msg)
		m.SetQuestion(tc.name+".", dns.TypeA)
		start = time.Now()
		if _, err := dns.Exchange(m, w.DNSServer()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < tc.want {
			t.Errorf("A %s took %v, want at least %v", tc.name, d, tc.want)
		}
	}
}
