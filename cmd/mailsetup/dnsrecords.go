package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/autoconfig/server"
)

type dnsRecordsOptions struct {
	f          *Factory
	domain     string
	configPath string
	ttlText    string
	ttl        uint32
}

// maxTTL is the largest TTL RFC 2181 §8 allows.
const maxTTL = 1<<31 - 1

func newCmdDNSRecords(f *Factory, runF func(*dnsRecordsOptions) error) *cobra.Command {
	opts := &dnsRecordsOptions{ttlText: "3600", f: f}
	cmd := &cobra.Command{
		Use:   "dns-records DOMAIN --config FILE",
		Short: "Print the DNS records a domain publishes for `mailsetup serve` and RFC 6186",
		Long: `Print, in zone-file syntax, what DOMAIN publishes so that mail clients find
the autoconfiguration server and the mail servers of the serve configuration:

  - autoconfig.DOMAIN and autodiscover.DOMAIN: CNAME to the configuration's
    hostname (ACME gets certificates for these names);
  - _autodiscover._tcp.DOMAIN: SRV to the hostname itself, port 443 (an
    SRV target must not be an alias);
  - RFC 6186 / RFC 8314 SRV records (_imaps, _imap, _pop3s, _pop3,
    _submissions, _submission) in the configured order of preference, and
    "0 0 0 ." records for the services not offered. Plain-text servers are
    not announced;
  - for the calendar and contacts URLs configured (caldav:, carddav:):
    _caldavs._tcp / _carddavs._tcp SRV and TXT "path=" records (RFC 6764)
    and "0 0 0 ." for the plain-text _caldav / _carddav.

Once published, 'mailsetup probe DOMAIN' confirms them.`,
		Example: "  mailsetup dns-records example.test --config examples/serve.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.domain = args[0]
			if opts.configPath == "" {
				return usageError("dns-records needs --config FILE, the serve configuration that lists %q", args[0])
			}
			ttl, err := strconv.ParseUint(opts.ttlText, 10, 32)
			if err != nil || ttl > maxTTL {
				return usageError("--ttl %q is not a number of seconds from 0 to %d; try --ttl 3600", opts.ttlText, maxTTL)
			}
			opts.ttl = uint32(ttl)
			if runF != nil {
				return runF(opts)
			}
			return runDNSRecords(opts)
		},
	}
	cmd.Flags().StringVar(&opts.configPath, "config", "", "the `FILE` mailsetup serve reads")
	cmd.Flags().Var((*secondsText)(&opts.ttlText), "ttl", "time to live of the records, in `SECONDS`")
	return cmd
}

// dnsRecordsJSON is `dns-records --json` (docs/json-schema.md).
type dnsRecordsJSON struct {
	SchemaVersion int             `json:"schema_version"`
	Records       []dnsRecordJSON `json:"records"`
}

// dnsRecordJSON is one record in `dns-records --json`.
type dnsRecordJSON struct {
	Name    string `json:"name"`
	TTL     uint32 `json:"ttl"`
	Type    string `json:"type"`
	Value   string `json:"value"`
	Comment string `json:"comment,omitempty"`
}

func runDNSRecords(opts *dnsRecordsOptions) error {
	cfg, err := server.LoadConfig(opts.configPath)
	if err != nil {
		return err
	}
	records, err := cfg.DNSRecords(opts.domain, opts.ttl)
	if errors.Is(err, server.ErrUnknownDomain) {
		// The configuration is fine; the domain asked for is the mistake.
		return usageError("%s: %v", opts.configPath, strings.TrimPrefix(err.Error(), server.ErrUnknownDomain.Error()+": "))
	}
	if err != nil {
		return err
	}
	out := opts.f.IO.Out
	if opts.f.JSON {
		list := make([]dnsRecordJSON, 0, len(records))
		for _, r := range records {
			h := r.RR.Header()
			value := strings.TrimPrefix(r.RR.String(), h.String())
			list = append(list, dnsRecordJSON{Name: h.Name, TTL: h.Ttl, Type: dns.TypeToString[h.Rrtype], Value: value, Comment: r.Comment})
		}
		return writeJSON(out, dnsRecordsJSON{SchemaVersion: jsonSchemaVersion, Records: list})
	}
	d, _ := autoconfig.ParseDomain(opts.domain) // DNSRecords checked it
	fmt.Fprintf(out, "; DNS records for %s, from %s (mailsetup dns-records)\n", d.ASCII, opts.configPath)
	for _, r := range records {
		line := r.RR.String()
		if r.Comment != "" {
			line += "\t; " + r.Comment
		}
		fmt.Fprintln(out, line)
	}
	return nil
}

// secondsText is a flag value kept as typed (the command checks it and
// says what is wrong) that help shows as a number: --ttl SECONDS
// (default 3600), not a quoted string.
type secondsText string

func (s *secondsText) String() string     { return string(*s) }
func (s *secondsText) Set(v string) error { *s = secondsText(v); return nil }
func (s *secondsText) Type() string       { return "seconds" }
