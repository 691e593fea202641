package autoconfig_test

import (
	"fmt"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// Every source of a host name passes it through ParseHostname and keeps
// what it returns.
func ExampleParseHostname() {
	for _, in := range []string{"IMAP.Bücher.test", "https://imap.example.test:993", "localhost"} {
		host, err := autoconfig.ParseHostname(in)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(host)
	}
	// Output:
	// imap.xn--bcher-kva.test
	// autoconfig: not a host name: "https://imap.example.test:993" is a web address; write only the server's name, such as imap.example.com, and the port apart
	// autoconfig: not a host name: "localhost" names this computer or a local network, not a mail server on the Internet; write its full name, such as imap.example.com
}

// The RFC 6186/8314 services, in the order a client prefers them.
func ExampleServices() {
	for _, s := range autoconfig.Services() {
		fmt.Println(s.SRVOwner("example.com"), s.Protocol, s.Security, s.Port)
	}
	// Output:
	// _imaps._tcp.example.com imap tls 993
	// _imap._tcp.example.com imap starttls 143
	// _pop3s._tcp.example.com pop3 tls 995
	// _pop3._tcp.example.com pop3 starttls 110
	// _submissions._tcp.example.com smtp tls 465
	// _submission._tcp.example.com smtp starttls 587
}
