package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIdleConnectionsCapped holds many idle keep-alive connections, as an
// attacker would, and shows the caps: one client address keeps at most
// connections.per_client of them, all clients together at most
// connections.max; the rest are closed on arrival. /metrics, on its own
// listener, counts them.
func TestIdleConnectionsCapped(t *testing.T) {
	cfg := parseTestConfig(t, "testdata", "connections: {max: 24, per_client: 16}\n")
	if cfg.Timeouts.Idle != 30*time.Second {
		t.Errorf("default idle timeout %s, want 30s", cfg.Timeouts.Idle)
	}
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, mln := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, Listeners{HTTP: ln, Metrics: mln}) }()
	defer func() { cancel(); <-done }()

	// open dials from the local address from and asks once, keeping the
	// connection alive; it reports whether the server answered.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	open := func(from string) bool {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			c.Close()
			return false
		}
		resp.Body.Close()
		held = append(held, c)
		return resp.StatusCode == 200
	}
	count := func(from string, n int) (answered int) {
		for range n {
			if open(from) {
				answered++
			}
		}
		return answered
	}
	if got := count("127.0.0.1", 40); got != 16 {
		t.Errorf("one client holds %d idle connections, want connections.per_client 16", got)
	}
	if got := count("127.0.0.2", 20); got != 8 {
		t.Errorf("a second client got %d connections, want the 8 left of connections.max 24", got)
	}

	resp, err := http.Get("http://" + mln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"mailsetup_serve_connections_open 24\n",
		`mailsetup_serve_connections_refused_total{cap="per_client"} 24` + "\n",
		`mailsetup_serve_connections_refused_total{cap="total"} 12` + "\n",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}

	// Closed connections free their places; /metrics is not on the main port.
	for _, c := range held {
		c.Close()
	}
	held = nil
	deadline := time.Now().Add(5 * time.Second)
	for !open("127.0.0.1") {
		if time.Now().After(deadline) {
			t.Fatal("places were not freed when connections closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err = http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/metrics on the main listener while metrics.listen is set: %d, want 404", resp.StatusCode)
	}
}
