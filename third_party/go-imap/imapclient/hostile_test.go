package imapclient_test

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// TestHostileRepliesEnd: whatever a server sends, the client's reader ends
// once the connection is closed, and Close returns; a reader that spins
// without reading would keep Close waiting for ever.
func TestHostileRepliesEnd(t *testing.T) {
	for _, reply := range []string{
		"* CAPABILITY(\r\n",
		"* OK [CAPABILITY(] hi\r\n",
		"* CAPABILITY IMAP4rev1 (\r\n",
		"* NAMESPACE(\r\n",
		"* QUOTA x(\r\n",
		"* QUOTAROOT x(\r\n",
		"* ACL x(\r\n",
		"* METADATA x(\r\n",
		"* 1 FETCH (FLAGS(\r\n",
		"* 1 FETCH (BODYSTRUCTURE (\r\n",
		"* LIST () \"/\" x(\r\n",
		"* SEARCH(\r\n",
		"* ESEARCH(\r\n",
		"* SORT(\r\n",
		"* THREAD(\r\n",
		"* STATUS x(\r\n",
		"* FLAGS(\r\n",
		"* ENABLED(\r\n",
		"* ID(\r\n",
		"* ID (\"a\"(\r\n",
	} {
		t.Run(reply, func(t *testing.T) {
			client, server := net.Pipe()
			go func() {
				server.Write([]byte("* OK hi\r\n" + reply))
			}()
			c := imapclient.New(client, nil)
			c.WaitGreeting()
			time.Sleep(50 * time.Millisecond)
			done := make(chan struct{})
			go func() { c.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("Close still waits 5 s after %q", reply)
			}
			server.Close()
		})
	}
}

// TestStartTLSStrayByteEnds: a tagged OK to STARTTLS followed by a stray
// byte instead of CRLF ends the reader before the upgrade; NewStartTLS
// must return, not wait for an upgrade that never comes.
func TestStartTLSStrayByteEnds(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	go func() {
		server.Write([]byte("* OK hi\r\n"))
		buf := make([]byte, 64)
		n, _ := server.Read(buf) // "T1 STARTTLS\r\n"
		tag, _, _ := strings.Cut(string(buf[:n]), " ")
		server.Write([]byte(tag + " OK\rx"))
		io.Copy(io.Discard, server)
	}()
	done := make(chan error, 1)
	go func() {
		_, err := imapclient.NewStartTLS(client, &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("NewStartTLS succeeded without a TLS handshake")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("NewStartTLS still waits 5 s after \"T1 OK\\rx\"")
	}
}
