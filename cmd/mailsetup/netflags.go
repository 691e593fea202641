package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// defaultISPDBURL is Thunderbird's public ISPDB. Only the command line
// defaults to it; package probe has no default, so tests never reach it.
const defaultISPDBURL = "https://autoconfig.thunderbird.net/v1.1/"

// passwordEnv is the environment variable a password may come from.
const passwordEnv = "MAILSETUP_PASSWORD"

// maxPasswordLen bounds what --password-stdin and --password-file read.
const maxPasswordLen = 4096

// networkSetup returns the probe options the shared network and credential
// flags describe (resolver, dialer, budget, password, ...) and a function
// that releases what it started (a sandbox world). Commands hold one in
// their options struct so tests can inject their own.
type networkSetup func(ctx context.Context) (probe.Options, func(), error)

// netFlags are the network and credential flags every command that probes
// shares (probe, profile, wizard, batch): where DNS goes, what to trust, how
// long to try, where the password comes from, and the sandbox.
type netFlags struct {
	// cmd is the command the flags belong to: its input is where
	// --password-stdin reads (the injected streams in tests).
	cmd *cobra.Command

	dnsServer        string
	caFile           string
	timeout          time.Duration
	private          bool
	ispdbURL         string
	passwordStdin    bool
	passwordFile     string
	allowPlaintext   bool
	trustCert        []string
	trustHosts       []string
	autodiscoverAuth bool
	sandbox          string
	// withPassword: the command takes --password-stdin, --password-file
	// and MAILSETUP_PASSWORD.
	withPassword bool
}

// addNetFlags adds the shared flags to cmd.
func addNetFlags(cmd *cobra.Command) *netFlags {
	nf := addNetFlagsWithoutPassword(cmd)
	nf.withPassword = true
	fl := cmd.Flags()
	fl.BoolVar(&nf.passwordStdin, "password-stdin", false, "read the password from the first line of standard input and test the login")
	fl.StringVar(&nf.passwordFile, "password-file", "", "read the password from the first line of `FILE` and test the login (MAILSETUP_PASSWORD works too)")
	return nf
}

// addNetFlagsWithoutPassword adds the shared flags but the password's, for
// a command whose passwords come from elsewhere (batch: from each row).
func addNetFlagsWithoutPassword(cmd *cobra.Command) *netFlags {
	nf := &netFlags{cmd: cmd}
	fl := cmd.Flags()
	fl.StringVar(&nf.dnsServer, "dns-server", "", "send every DNS query to this `HOST[:PORT]` (port 53 unless given; default: the system's resolvers)")
	fl.StringVar(&nf.caFile, "ca-file", "", "trust the CA certificates in this PEM `FILE` too (SSL_CERT_FILE works as well)")
	fl.DurationVar(&nf.timeout, "timeout", probe.DefaultTimeout, "total time budget of the probe")
	fl.BoolVar(&nf.private, "private", false, "stay local to the domain: no ISPDB, no MX-derived third-party lookups, no address in any URL")
	fl.StringVar(&nf.ispdbURL, "ispdb-url", defaultISPDBURL, "base `URL` of the ISPDB (the domain is appended)")
	fl.BoolVar(&nf.allowPlaintext, "allow-plaintext", false, "allow sending the password over an unencrypted connection (dangerous)")
	fl.StringSliceVar(&nf.trustCert, "trust-cert", nil, "trust the certificate with this `SHA256` fingerprint although it does not verify (as the report shows it)")
	fl.StringArrayVar(&nf.trustHosts, "trust-host", nil, "let the password go to `HOST` although only an unauthenticated source in another domain named it (repeatable; see docs/password-rule.md)")
	fl.BoolVar(&nf.autodiscoverAuth, "autodiscover-auth", false, "send the password to the domain's own Autodiscover over valid https")
	fl.StringVar(&nf.sandbox, "sandbox", "", "probe inside the built-in simulated mail world `SCENARIO` (see 'mailsetup sandbox --list'); no network is used. No login is tried unless a password is given: 'mailsetup sandbox --list --json' shows each scenario's test password")
	return nf
}

// scenario is the --sandbox scenario, when one is named and known.
func (nf *netFlags) scenario() (sandbox.Scenario, error) {
	for _, sc := range sandbox.Catalogue() {
		if sc.Name == nf.sandbox {
			return sc, nil
		}
	}
	var names []string
	for _, sc := range sandbox.Catalogue() {
		names = append(names, sc.Name)
	}
	return sandbox.Scenario{}, usageError("--sandbox %q is not a scenario; choose one of: %s", nf.sandbox, strings.Join(names, ", "))
}

// setup turns the flags into probe options (a networkSetup). With --sandbox
// it starts the simulated world in this process; the returned function
// closes it. The scenario's password is never taken on the user's behalf:
// a probe logs in only with a password the user gave, so --sandbox behaves
// as the real network does (and --include-password cannot write a password
// nobody typed).
func (nf *netFlags) setup(ctx context.Context) (probe.Options, func(), error) {
	nothing := func() {}
	opts := probe.Options{
		Timeout:          nf.timeout,
		Private:          nf.private,
		AllowPlaintext:   nf.allowPlaintext,
		TrustCertSHA256:  nf.trustCert,
		AutodiscoverAuth: nf.autodiscoverAuth,
		ISPDBURL:         nf.ispdbURL,
	}
	if nf.timeout <= 0 {
		return opts, nothing, usageError("--timeout %s is not a positive duration; try --timeout 15s", nf.timeout)
	}
	for _, h := range nf.trustHosts {
		host, err := autoconfig.ParseHostname(h)
		if err != nil {
			return opts, nothing, usageError("--trust-host %q is not one host name (repeat --trust-host for each host, such as --trust-host imap.example.com)", h)
		}
		opts.TrustHosts = append(opts.TrustHosts, host)
	}
	if err := checkTrustCerts(nf.trustCert); err != nil {
		return opts, nothing, err
	}
	if err := checkISPDBURL(nf.ispdbURL); err != nil && !nf.private {
		return opts, nothing, err
	}
	if nf.private {
		opts.ISPDBURL = ""
	}
	if nf.withPassword {
		password, err := nf.password()
		if err != nil {
			return opts, nothing, err
		}
		opts.Password = password
	}

	if nf.sandbox != "" {
		if nf.dnsServer != "" || nf.caFile != "" {
			return opts, nothing, usageError("--sandbox runs a world of its own: leave out --dns-server and --ca-file")
		}
		sc, err := nf.scenario()
		if err != nil {
			return opts, nothing, err
		}
		w, err := sandbox.Start(ctx, sandbox.Options{Scenarios: []string{sc.Name}})
		if err != nil {
			return opts, nothing, fmt.Errorf("starting the sandbox: %w", err)
		}
		opts.Env = w.Env()
		opts.ISPDBURL = w.ISPDBURL()
		if nf.private {
			opts.ISPDBURL = ""
		}
		return opts, func() { w.Close() }, nil
	}

	roots, err := netx.LoadRootCAs(nf.caFile, os.Getenv("SSL_CERT_FILE"))
	if err != nil {
		return opts, nothing, fmt.Errorf("%w (--ca-file or SSL_CERT_FILE)", err)
	}
	dialer := &net.Dialer{}
	opts.Env = netx.Env{Dialer: dialer, RootCAs: roots}
	if nf.dnsServer != "" {
		server, err := dnsServerAddress(nf.dnsServer)
		if err != nil {
			return opts, nothing, err
		}
		opts.Env.Resolver = netx.NewDNSResolver(server, dialer)
	} else {
		opts.Env.Resolver = netx.SystemResolver(dialer)
	}
	return opts, nothing, nil
}

// password reads the password from --password-stdin, --password-file or
// MAILSETUP_PASSWORD, in that order; nil when none is given. Never from a
// flag value: that would leave it in the shell history and the process list.
func (nf *netFlags) password() ([]byte, error) {
	if nf.passwordStdin && nf.passwordFile != "" {
		return nil, usageError("give the password one way: --password-stdin or --password-file, not both")
	}
	switch {
	case nf.passwordStdin:
		if pw, asked, err := passwordFromTerminal(nf.cmd.InOrStdin(), nf.cmd.ErrOrStderr()); asked {
			return pw, err
		}
		return readPassword(nf.cmd.InOrStdin(), "standard input")
	case nf.passwordFile != "":
		f, err := os.Open(nf.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		defer f.Close()
		return readPassword(f, nf.passwordFile)
	}
	if v, ok := os.LookupEnv(passwordEnv); ok {
		if v == "" {
			return nil, usageError("%s is set but empty; unset it or put the password in it", passwordEnv)
		}
		return []byte(v), nil
	}
	return nil, nil
}

// readPassword takes the first line of r, without its line ending.
func readPassword(r io.Reader, from string) ([]byte, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLen+2), maxPasswordLen+2).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the password from %s: %w", from, err)
	}
	line = []byte(strings.TrimRight(string(line), "\r\n"))
	switch {
	case len(line) == 0:
		return nil, usageError("no password on the first line of %s; put it there, e.g. --password-stdin < password.txt", from)
	case len(line) > maxPasswordLen:
		return nil, usageError("the password in %s is longer than %d bytes", from, maxPasswordLen)
	}
	return line, nil
}
