package sandbox

import (
	"errors"
	"io"
	"net"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// startSMTP starts the endpoint's go-smtp submission server on first use.
func (ep *endpoint) startSMTP() {
	ep.once.Do(func() {
		srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
			return &smtpSession{ep: ep}, nil
		}))
		srv.Domain = ep.host.Name
		srv.ErrorLog = discardLogger{}
		srv.MaxMessageBytes = 1 << 20
		srv.MaxRecipients = 50
		srv.AllowInsecureAuth = ep.svc.Security == autoconfig.SecurityPlain
		if ep.svc.Security == autoconfig.SecuritySTARTTLS {
			srv.TLSConfig = ep.tlsConfig()
		}
		ep.queue = newConnQueue(net.TCPAddrFromAddrPort(ep.addr))
		// Not srv.Close: it reads each connection's net.Conn under a lock
		// that go-smtp's STARTTLS handler does not take when it swaps in
		// the TLS connection (a data race under -race, issue 11). The
		// world closes every connection itself; closing the queue ends
		// Serve, whose handlers then end on their closed connections.
		ep.w.onClose(ep.queue)
		ep.w.goServe(func() { srv.Serve(ep.queue) })
	})
}

// errAuthRequired is SMTP's answer to mail from a client that has not
// logged in: a submission server relays for its users only.
var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

var errBadCredentials = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}

// smtpSession is one submission session: AUTH PLAIN and LOGIN, then mail
// that is accepted and dropped.
type smtpSession struct {
	ep     *endpoint
	authed bool
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if !s.ep.checkLogin(username, password) {
			return errBadCredentials
		}
		s.authed = true
		return nil
	}
	switch strings.ToUpper(mech) {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return errBadCredentials
			}
			return check(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{authenticate: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *smtpSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return errAuthRequired
	}
	return nil
}

func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error {
	if !s.authed {
		return errAuthRequired
	}
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism
// (draft-murchison-sasl-login), which go-sasl only has a client for: ask
// for the username, then the password. A client may send the username as
// the initial response.
type loginServer struct {
	authenticate func(username, password string) error
	step         int
	username     string
}

var errLoginSequence = errors.New("sandbox: unexpected LOGIN response")

func (s *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch s.step {
	case 0:
		if response != nil {
			s.username, s.step = string(response), 2
			return []byte("Password:"), false, nil
		}
		s.step = 1
		return []byte("Username:"), false, nil
	case 1:
		s.username, s.step = string(response), 2
		return []byte("Password:"), false, nil
	case 2:
		s.step = 3
		return nil, true, s.authenticate(s.username, string(response))
	}
	return nil, true, errLoginSequence
}
