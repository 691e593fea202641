// Package integration proves mailsetup against the servers people really
// run: Dovecot (IMAP RFC 9051/3501 with STARTTLS, POP3 RFC 1939 with STLS
// RFC 2595, implicit TLS per RFC 8314) and Postfix submission (RFC 6409, 587
// with STARTTLS RFC 3207, 465 with implicit TLS, SASL RFC 4954 through
// Dovecot's auth socket).
//
// The package holds only tests. They need the servers that
// scripts/realservers.sh starts on loopback and describes in MAILSETUP_REAL_*
// variables; without MAILSETUP_REALSERVERS=1 every test skips and says how
// to run them:
//
//	sudo scripts/realservers.sh test
package integration
