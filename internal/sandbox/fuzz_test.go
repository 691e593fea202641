package sandbox

import (
	"io"
	"net"
	"testing"
	"time"
)

// FuzzServers feeds arbitrary client input to the servers written here (the
// POP3 server, with and without STLS, and the STARTTLS liar for each
// protocol): none may panic or hang, whatever the client sends.
func FuzzServers(f *testing.F) {
	for _, seed := range []string{
		"CAPA\r\nUSER alice@fuzz.test\r\nPASS pw-fuzz\r\nSTAT\r\nLIST\r\nUIDL 1\r\nRETR 1\r\nTOP 1 0\r\nDELE 1\r\nRSET\r\nNOOP\r\nQUIT\r\n",
		"AUTH PLAIN AGFsaWNlQGZ1enoudGVzdABwdy1mdXp6\r\nSTAT\r\n",
		"AUTH PLAIN\r\n*\r\nAUTH PLAIN\r\n=\r\nAUTH LOGIN\r\n",
		"STLS\r\n\x16\x03\x01\x00\x05hello",
		"USER\r\nPASS\r\nTOP\r\nTOP 1 x\r\nRETR -1\r\nLIST 99999999999999999999\r\n",
		"a1 CAPABILITY\r\na2 STARTTLS\r\na3 LOGIN a b\r\na4 LOGOUT\r\n",
		"EHLO x\r\nSTARTTLS\r\nAUTH PLAIN AGEAYg==\r\nQUIT\r\n",
		string(make([]byte, 9000)),
	} {
		f.Add([]byte(seed))
	}
	ca, err := newAuthority(time.Now)
	if err != nil {
		f.Fatal(err)
	}
	sc := &Scenario{Name: "fuzz", Address: "alice@fuzz.test", Password: "pw-fuzz"}
	w := &World{ca: ca, passwords: map[string]bool{sc.Password: true}, recorder: newRecorder(),
		done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	h := &host{Host: Host{Name: "mail.fuzz.test"}, scenario: sc}
	endpoints := []struct {
		ep    *endpoint
		serve func(*endpoint, net.Conn)
	}{
		{&endpoint{w: w, host: h, svc: Service{Kind: KindPOP3, Port: 110, Security: secPlain}}, (*endpoint).servePOP3},
		{&endpoint{w: w, host: h, svc: POP3StartTLS()}, (*endpoint).servePOP3},
		{&endpoint{w: w, host: h, svc: IMAPStartTLS().WithFault(FaultSTARTTLSFails)}, (*endpoint).serveLiar},
		{&endpoint{w: w, host: h, svc: POP3StartTLS().WithFault(FaultSTARTTLSFails)}, (*endpoint).serveLiar},
		{&endpoint{w: w, host: h, svc: Submission().WithFault(FaultSTARTTLSFails)}, (*endpoint).serveLiar},
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, e := range endpoints {
			client, server := net.Pipe()
			go io.Copy(io.Discard, client)
			done := make(chan struct{})
			go func() {
				defer close(done)
				e.serve(e.ep, server)
				server.Close()
			}()
			client.SetWriteDeadline(time.Now().Add(2 * time.Second))
			client.Write(in)
			client.Close()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s server hung on %q", e.ep.svc.Kind, in)
			}
		}
	})
}
