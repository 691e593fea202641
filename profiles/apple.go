package profiles

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/smallstep/pkcs7"
	"howett.net/plist"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// AppleOptions change the .mobileconfig.
type AppleOptions struct {
	// Password, when not empty, goes into the profile as the incoming and
	// outgoing password. Anyone holding the file can read it: the command
	// only sets it with --include-password, writes the file 0600 and warns.
	Password string
	// Signer, when set, signs the profile (CMS SignedData, attached, DER) so
	// that devices show it as verified.
	Signer *Signer
}

// AppleFileName names the profile after the address, so profiles for two
// people do not overwrite each other.
func AppleFileName(addr autoconfig.Address) string {
	safe := strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', ':', '*', '?', '"', '<', '>', '|':
			return '_'
		}
		return r
	}, addr.ASCII())
	return safe + ".mobileconfig"
}

// mobileconfig is the top level of a configuration profile (Apple's
// device-management TopLevel.yaml). Field order is the order written.
type mobileconfig struct {
	PayloadContent           []any  `plist:"PayloadContent"`
	PayloadDescription       string `plist:"PayloadDescription"`
	PayloadDisplayName       string `plist:"PayloadDisplayName"`
	PayloadIdentifier        string `plist:"PayloadIdentifier"`
	PayloadRemovalDisallowed bool   `plist:"PayloadRemovalDisallowed"`
	PayloadType              string `plist:"PayloadType"`
	PayloadUUID              string `plist:"PayloadUUID"`
	PayloadVersion           int    `plist:"PayloadVersion"`
}

// mailPayload is a com.apple.mail.managed payload (Apple's
// com.apple.mail.managed.yaml).
type mailPayload struct {
	EmailAccountDescription                string `plist:"EmailAccountDescription"`
	EmailAccountName                       string `plist:"EmailAccountName"`
	EmailAccountType                       string `plist:"EmailAccountType"`
	EmailAddress                           string `plist:"EmailAddress"`
	IncomingMailServerAuthentication       string `plist:"IncomingMailServerAuthentication"`
	IncomingMailServerHostName             string `plist:"IncomingMailServerHostName"`
	IncomingMailServerPortNumber           int    `plist:"IncomingMailServerPortNumber"`
	IncomingMailServerUseSSL               bool   `plist:"IncomingMailServerUseSSL"`
	IncomingMailServerUsername             string `plist:"IncomingMailServerUsername"`
	IncomingPassword                       string `plist:"IncomingPassword,omitempty"`
	OutgoingMailServerAuthentication       string `plist:"OutgoingMailServerAuthentication"`
	OutgoingMailServerHostName             string `plist:"OutgoingMailServerHostName"`
	OutgoingMailServerPortNumber           int    `plist:"OutgoingMailServerPortNumber"`
	OutgoingMailServerUseSSL               bool   `plist:"OutgoingMailServerUseSSL"`
	OutgoingMailServerUsername             string `plist:"OutgoingMailServerUsername,omitempty"`
	OutgoingPassword                       string `plist:"OutgoingPassword,omitempty"`
	OutgoingPasswordSameAsIncomingPassword bool   `plist:"OutgoingPasswordSameAsIncomingPassword"`
	PayloadDescription                     string `plist:"PayloadDescription"`
	PayloadDisplayName                     string `plist:"PayloadDisplayName"`
	PayloadIdentifier                      string `plist:"PayloadIdentifier"`
	PayloadType                            string `plist:"PayloadType"`
	PayloadUUID                            string `plist:"PayloadUUID"`
	PayloadVersion                         int    `plist:"PayloadVersion"`
}

// davPayload is a com.apple.caldav.account or com.apple.carddav.account
// payload (Apple's com.apple.caldav.account.yaml and
// com.apple.carddav.account.yaml, vendored in testdata/apple-schema/ and
// checked by TestApplePayloadsFollowAppleSchema). The two have the same keys
// with the prefix CalDAV or CardDAV, so the plist is built as a map.
func davPayload(acct Account, s davService, password string) map[string]any {
	prefix := "CalDAV"
	what := "calendar"
	if s.Kind == autoconfig.CardDAV {
		prefix, what = "CardDAV", "contacts"
	}
	id, uuid := appleDAVIdentifiers(acct.Address, s.Kind)
	p := map[string]any{
		prefix + "AccountDescription": commentSafe(acct.providerName()) + " " + what + " (" + acct.Address.String() + ")",
		prefix + "HostName":           commentSafe(s.Host),
		prefix + "Port":               s.Port,
		prefix + "UseSSL":             s.TLS,
		prefix + "Username":           commentSafe(s.Username),
		"PayloadDescription":          "The " + what + " of " + acct.Address.String(),
		"PayloadDisplayName":          prefix + ": " + acct.Address.String(),
		"PayloadIdentifier":           id,
		"PayloadType":                 "com.apple." + string(s.Kind) + ".account",
		"PayloadUUID":                 uuid,
		"PayloadVersion":              1,
	}
	// "The base URL to the user's calendar" (address book): the context
	// URL, from which the device finds the principal (RFC 6764 §6).
	p[prefix+"PrincipalURL"] = commentSafe(s.URL)
	if password != "" {
		p[prefix+"Password"] = password
	}
	return p
}

// appleDAVIdentifiers are a DAV payload's PayloadIdentifier and
// PayloadUUID, as stable as the mail payload's.
func appleDAVIdentifiers(addr autoconfig.Address, kind autoconfig.DAVKind) (id, uuid string) {
	profileID, _, _, _ := AppleIdentifiers(addr)
	return profileID + "." + string(kind), nameUUID(string(kind) + ":" + strings.ToLower(addr.ASCII()))
}

// AppleIdentifiers are the profile's PayloadIdentifier and PayloadUUID and
// the mail payload's. They depend on the address alone, so installing a new
// profile for the same address replaces the old one instead of adding a
// second account.
func AppleIdentifiers(addr autoconfig.Address) (profileID, profileUUID, mailID, mailUUID string) {
	labels := strings.Split(addr.Domain, ".")
	slices.Reverse(labels)
	base := strings.Join(labels, ".") + ".mailsetup"
	profileUUID = nameUUID("profile:" + strings.ToLower(addr.ASCII()))
	mailUUID = nameUUID("mail:" + strings.ToLower(addr.ASCII()))
	profileID = base + "." + profileUUID
	return profileID, profileUUID, profileID + ".mail", mailUUID
}

// appleUUIDNamespace is mailsetup's own UUID namespace, a random UUID drawn
// once. Never change it: every profile's identity derives from it, and a new
// one would make re-installed profiles add a second account.
var appleUUIDNamespace = [16]byte{0x3b, 0x4f, 0x7c, 0x1e, 0x52, 0x0a, 0x4d, 0x8e, 0x9a, 0x61, 0x2c, 0x47, 0x0d, 0x93, 0xe8, 0x15}

// nameUUID is an RFC 9562 version-5 UUID (SHA-1, name based) of name in
// mailsetup's namespace, upper case as Apple writes them.
func nameUUID(name string) string {
	h := sha1.New()
	h.Write(appleUUIDNamespace[:])
	h.Write([]byte(name))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]))
}

// Apple's authentication values; it has none for OAuth2 or SCRAM.
func appleAuth(s autoconfig.Server) (string, error) {
	// Prefer the password over TLS: Apple's CRAM-MD5 is the only
	// "encrypted" method it has, and servers listing password-encrypted
	// often mean SCRAM, which Apple cannot do.
	order := []struct {
		m autoconfig.AuthMethod
		v string
	}{
		{autoconfig.AuthPasswordCleartext, "EmailAuthPassword"},
		{autoconfig.AuthPasswordEncrypted, "EmailAuthCRAMMD5"},
		{autoconfig.AuthNTLM, "EmailAuthNTLM"},
		{autoconfig.AuthNone, "EmailAuthNone"},
		{autoconfig.AuthClientIP, "EmailAuthNone"},
	}
	for _, o := range order {
		if s.HasAuth(o.m) {
			return o.v, nil
		}
	}
	return "", fmt.Errorf("%w: an Apple profile cannot log in with %v at %s (it knows passwords, CRAM-MD5 and NTLM): add the account in the device's settings instead",
		ErrUnsupported, s.Auth, s.Address())
}

// appleServer returns s, or the provider's implicit-TLS server of the same
// protocol when s uses STARTTLS or no TLS: a profile can only say "use SSL",
// not "STARTTLS required", so the implicit-TLS port is the one setting that
// cannot silently fall back to plain text. The same host name is preferred.
func appleServer(p *autoconfig.Provider, s autoconfig.Server) autoconfig.Server {
	if s.Security == autoconfig.SecurityTLS || p == nil {
		return s
	}
	list := p.Incoming
	if s.Protocol == autoconfig.SMTP {
		list = p.Outgoing
	}
	var best *autoconfig.Server
	for i, c := range list {
		if c.Protocol != s.Protocol || c.Security != autoconfig.SecurityTLS {
			continue
		}
		if _, err := appleAuth(c); err != nil {
			continue
		}
		if best == nil || (c.Hostname == s.Hostname && best.Hostname != s.Hostname) {
			best = &list[i]
		}
	}
	if best == nil {
		return s
	}
	out := *best
	if s.POP3 != nil {
		out.POP3 = s.POP3
	}
	if out.Username == "" {
		out.Username = s.Username
	}
	return out
}

// AppleMobileconfig writes a configuration profile with one
// com.apple.mail.managed payload for the account: all values with their plist
// types (ports and PayloadVersion as integers), implicit-TLS servers where
// the provider offers them, identifiers that depend only on the address, and
// a password only when opts carries one. With opts.Signer the output is the
// DER CMS SignedData that wraps the plist.
func AppleMobileconfig(w io.Writer, acct Account, opts AppleOptions) error {
	in := acct.expanded(appleServer(acct.Provider, acct.Incoming))
	out := acct.expanded(appleServer(acct.Provider, acct.Outgoing))
	inAuth, err := appleAuth(in)
	if err != nil {
		return err
	}
	outAuth, err := appleAuth(out)
	if err != nil {
		return err
	}
	accountType := "EmailTypeIMAP"
	if in.Protocol == autoconfig.POP3 {
		accountType = "EmailTypePOP"
	}
	profileID, profileUUID, mailID, mailUUID := AppleIdentifiers(acct.Address)
	// XML 1.0 cannot carry most control characters: no value may hold one
	// (a plist that does not parse is refused whole).
	in.Hostname, in.Username = commentSafe(in.Hostname), commentSafe(in.Username)
	out.Hostname, out.Username = commentSafe(out.Hostname), commentSafe(out.Username)
	mp := mailPayload{
		EmailAccountDescription:          commentSafe(acct.providerName()) + " (" + acct.Address.String() + ")",
		EmailAccountName:                 commentSafe(acct.name()),
		EmailAccountType:                 accountType,
		EmailAddress:                     acct.Address.ASCII(),
		IncomingMailServerAuthentication: inAuth,
		IncomingMailServerHostName:       in.Hostname,
		IncomingMailServerPortNumber:     in.Port,
		IncomingMailServerUseSSL:         in.Security != autoconfig.SecurityPlain,
		IncomingMailServerUsername:       in.Username,
		IncomingPassword:                 opts.Password,
		OutgoingMailServerAuthentication: outAuth,
		OutgoingMailServerHostName:       out.Hostname,
		OutgoingMailServerPortNumber:     out.Port,
		OutgoingMailServerUseSSL:         out.Security != autoconfig.SecurityPlain,
		PayloadDescription:               "E-mail account " + acct.Address.String(),
		PayloadDisplayName:               acct.Address.String(),
		PayloadIdentifier:                mailID,
		PayloadType:                      "com.apple.mail.managed",
		PayloadUUID:                      mailUUID,
		PayloadVersion:                   1,
	}
	if outAuth != "EmailAuthNone" {
		mp.OutgoingMailServerUsername = out.Username
		if opts.Password != "" && out.Username == in.Username {
			mp.OutgoingPassword = opts.Password
		}
		// Asks once for both passwords on an interactive install.
		mp.OutgoingPasswordSameAsIncomingPassword = out.Username == in.Username
	}
	dav := acct.dav()
	what := "e-mail account"
	if w := davWords(dav); w != "" {
		what = "e-mail account, " + w + " of"
	}
	description := "Sets up the " + what + " " + acct.Address.String() + " at " + commentSafe(acct.providerName()) + ". Written by mailsetup."
	if acct.unproven {
		description += " " + unprovenNote
	}
	if in.Security == autoconfig.SecuritySTARTTLS || out.Security == autoconfig.SecuritySTARTTLS {
		// Apple's schema has one switch, "UseSSL" (com.apple.mail.managed.yaml
		// in github.com/apple/device-management: "Designates whether the
		// incoming mail server uses SSL for authentication"); Apple Mail
		// then negotiates STARTTLS on the plain ports (143, 587): Apple's
		// own iCloud settings page (Apple Support 102525) lists SMTP port
		// 587, a STARTTLS port, with "SSL required: Yes". But a profile
		// cannot demand STARTTLS nor forbid falling back. Not checked on a
		// device here: said in the file and by Caveats (docs/clients.md).
		description += " The provider offers no encrypted-from-the-start port here: the profile turns on SSL for the STARTTLS port, and Apple Mail encrypts after connecting. After installing, check in the account's settings that SSL is on."
	}
	content := []any{mp}
	for _, s := range dav {
		content = append(content, davPayload(acct, s, opts.Password))
	}
	profile := mobileconfig{
		PayloadContent:     content,
		PayloadDescription: description,
		PayloadDisplayName: "E-mail: " + acct.Address.String(),
		PayloadIdentifier:  profileID,
		PayloadType:        "Configuration",
		PayloadUUID:        profileUUID,
		PayloadVersion:     1,
	}
	data, err := plist.MarshalIndent(profile, plist.XMLFormat, "\t")
	if err != nil {
		return fmt.Errorf("profiles: encoding the profile: %w", err)
	}
	if opts.Signer != nil {
		if data, err = opts.Signer.Sign(data); err != nil {
			return err
		}
	}
	_, err = w.Write(data)
	return err
}

// Signer signs profiles with a certificate whose key it holds.
type Signer struct {
	cert  *x509.Certificate
	key   crypto.PrivateKey
	chain []*x509.Certificate
}

// NewSigner reads a PEM certificate, its PEM private key (PKCS #8, PKCS #1 or
// SEC 1) and optional PEM intermediate certificates, and checks that the key
// belongs to the certificate.
func NewSigner(certPEM, keyPEM, chainPEM []byte) (*Signer, error) {
	certs, err := parseCerts(certPEM)
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("%w: --sign-cert holds no PEM certificate (%v)", ErrBadSigner, err)
	}
	chain, err := parseCerts(chainPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: --sign-chain: %v", ErrBadSigner, err)
	}
	// A certificate file may carry its chain after the leaf.
	chain = append(certs[1:], chain...)
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: --sign-key: %v", ErrBadSigner, err)
	}
	pub, ok := key.(interface{ Public() crypto.PublicKey })
	if !ok {
		return nil, fmt.Errorf("%w: --sign-key is not a signing key", ErrBadSigner)
	}
	eq, ok := pub.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(certs[0].PublicKey) {
		return nil, fmt.Errorf("%w: --sign-key does not belong to the certificate in --sign-cert", ErrBadSigner)
	}
	return &Signer{cert: certs[0], key: key, chain: chain}, nil
}

// Sign returns the DER CMS SignedData (RFC 5652) that carries content and
// the signer's certificate and chain, with SHA-256 digests.
func (s *Signer) Sign(content []byte) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("profiles: signing: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(s.cert, s.key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("profiles: signing with %q: %w", s.cert.Subject.CommonName, err)
	}
	for _, c := range s.chain {
		sd.AddCertificate(c)
	}
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("profiles: signing: %w", err)
	}
	return der, nil
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := bytes.TrimSpace(data); len(rest) > 0; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("not PEM")
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func parseKey(data []byte) (crypto.PrivateKey, error) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no unencrypted PEM private key in the file")
		}
		switch b.Type {
		case "PRIVATE KEY":
			return x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			return x509.ParseECPrivateKey(b.Bytes)
		}
	}
}
