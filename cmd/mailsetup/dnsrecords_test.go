package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateDNSRecords = flag.Bool("update-dns-records", false, "rewrite testdata/dnsrecords/*.golden from the current output")

// TestDNSRecordsGolden compares the zone-file output with golden files.
func TestDNSRecordsGolden(t *testing.T) {
	for _, tt := range []struct{ golden, domain, config string }{
		{"example.test", "example.test", "../../examples/serve.yaml"},
		{"idn-file", "Bücher.Example.TEST", "../../examples/serve.yaml"},
		{"placeholders-no-pop3", "xn--bcher-kva.test", "../../autoconfig/server/testdata/serve.yaml"},
		// An alias, with CalDAV on 443 and CardDAV on another port.
		{"alias-dav-port", "example-mail.test", "../../autoconfig/server/testdata/serve.yaml"},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runMain(t, "dns-records", tt.domain, "--config", tt.config, "--ttl", "300")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			path := filepath.Join("testdata", "dnsrecords", tt.golden+".golden")
			if *updateDNSRecords {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s (run with -update-dns-records after checking):\n%s", path, out)
			}
		})
	}
}

func TestDNSRecordsJSON(t *testing.T) {
	code, out, _ := runMain(t, "dns-records", "--json", "example.test", "--config", "../../examples/serve.yaml")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var got struct {
		SchemaVersion int `json:"schema_version"`
		Records       []struct{ Name, Type, Value, Comment string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, fmt.Sprintf("{\n  \"schema_version\": %d,", jsonSchemaVersion)) {
		t.Errorf("the document does not start with schema_version:\n%.60s", out)
	}
	// The setup page, on in the example, has its own name.
	if got.Records[3].Name != "setup.example.test." || got.Records[3].Type != "CNAME" {
		t.Errorf("setup page record = %+v, want setup.example.test. CNAME", got.Records[3])
	}
	// RFC 2782: the SRV target is the canonical name, never the CNAME beside it.
	if got.Records[2].Type != "SRV" || got.Records[2].Value != "0 0 443 mailsetup.example.test." {
		t.Errorf("_autodiscover._tcp = %+v, want the SRV at the hostname", got.Records[2])
	}
	if got.SchemaVersion != jsonSchemaVersion || got.Records[0].Type != "CNAME" || got.Records[0].Value != "mailsetup.example.test." ||
		got.Records[7].Name != "_pop3._tcp.example.test." || got.Records[7].Value != "0 0 0 ." {
		t.Errorf("unexpected records: %+v", got)
	}
	// RFC 6764: SRV and TXT path= for the configured CalDAV and CardDAV,
	// "." for their plain-text labels.
	var dav []string
	for _, r := range got.Records {
		if strings.Contains(r.Name, "dav") {
			dav = append(dav, r.Name+" "+r.Type+" "+r.Value)
		}
	}
	wantDAV := []string{
		"_caldavs._tcp.example.test. SRV 0 1 443 dav.example.test.",
		`_caldavs._tcp.example.test. TXT "path=/dav/calendars/"`,
		"_caldav._tcp.example.test. SRV 0 0 0 .",
		"_carddavs._tcp.example.test. SRV 0 1 443 dav.example.test.",
		`_carddavs._tcp.example.test. TXT "path=/dav/contacts/"`,
		"_carddav._tcp.example.test. SRV 0 0 0 .",
	}
	if strings.Join(dav, "\n") != strings.Join(wantDAV, "\n") {
		t.Errorf("DAV records:\n%s\nwant:\n%s", strings.Join(dav, "\n"), strings.Join(wantDAV, "\n"))
	}
}

func TestDNSRecordsMistakes(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dns-records", "example.test"}, exitUsage, "needs --config FILE"},
		{[]string{"dns-records", "--config", "../../examples/serve.yaml"}, exitUsage, "give DOMAIN, as in"},
		{[]string{"dns-records", "other.test", "--config", "../../examples/serve.yaml"}, exitUsage, `"other.test" is not a domain or alias in it; it serves example.test, xn--bcher-kva.example.test`},
		{[]string{"dns-records", "example.test", "--config", "../../examples/serve.yaml", "--ttl", "-5"}, exitUsage, `--ttl "-5" is not a number of seconds`},
		{[]string{"dns-records", "example.test", "--config", "../../examples/serve.yaml", "--ttl", "2147483648"}, exitUsage, "from 0 to 2147483647"},
		{[]string{"dns-records", "example.test", "--config", "no-such.yaml"}, exitFailure, "no-such.yaml: no such file\n"},
		{[]string{"dns-records", "example.test", "--config", "../../examples"}, exitFailure, "../../examples: is a folder, not a file\n"},
	}
	for _, tt := range tests {
		code, _, errOut := runMain(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}
