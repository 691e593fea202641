package sandbox

import (
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// discardLogger keeps the libraries' complaints about the faults we provoke
// on purpose out of test output.
type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// startIMAP starts the endpoint's go-imap server on first use: an
// in-memory mailbox with the scenario's account and one INBOX.
func (ep *endpoint) startIMAP() {
	ep.once.Do(func() {
		mem := imapmemserver.New()
		if sc := ep.host.scenario; sc != nil {
			u := imapmemserver.NewUser(sc.Login(), sc.Password)
			u.Create("INBOX", nil)
			mem.AddUser(u)
		}
		opts := &imapserver.Options{
			NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
				return &imapSession{Session: mem.NewSession(), ep: ep}, nil, nil
			},
			Caps:   imap.CapSet{imap.CapIMAP4rev1: {}},
			Logger: discardLogger{},
			// Plaintext-only servers take passwords in the clear; that is
			// the danger they exist to show.
			InsecureAuth: ep.svc.Security == autoconfig.SecurityPlain,
		}
		if ep.svc.Security == autoconfig.SecuritySTARTTLS {
			opts.TLSConfig = ep.tlsConfig()
		}
		srv := imapserver.New(opts)
		ep.queue = newConnQueue(net.TCPAddrFromAddrPort(ep.addr))
		ep.w.onClose(ep.queue)
		ep.w.onClose(srv)
		ep.w.goServe(func() { srv.Serve(ep.queue) })
	})
}

// imapSession records every password that reaches LOGIN or AUTHENTICATE
// PLAIN before the in-memory backend checks it.
type imapSession struct {
	imapserver.Session
	ep *endpoint
}

func (s *imapSession) Login(username, password string) error {
	if !s.ep.checkLogin(username, password) {
		return imapserver.ErrAuthFailed
	}
	return s.Session.Login(username, password)
}
