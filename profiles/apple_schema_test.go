package profiles

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"howett.net/plist"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// appleSchema is one payload's schema file of Apple's device-management
// repository (testdata/apple-schema/, vendored with its licence).
type appleSchema struct {
	Payload struct {
		PayloadType string `yaml:"payloadtype"`
	} `yaml:"payload"`
	PayloadKeys []appleSchemaKey `yaml:"payloadkeys"`
}

type appleSchemaKey struct {
	Key       string           `yaml:"key"`
	Type      string           `yaml:"type"`
	Presence  string           `yaml:"presence"`
	RangeList []any            `yaml:"rangelist"`
	Subkeys   []appleSchemaKey `yaml:"subkeys"`
}

func loadAppleSchemas(t *testing.T) map[string]appleSchema {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "apple-schema", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vendored schema files: %v", err)
	}
	out := map[string]appleSchema{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s appleSchema
		if err := yaml.Unmarshal(data, &s); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[s.Payload.PayloadType] = s
	}
	for _, want := range []string{"TopLevel", "CommonPayloadKeys", "com.apple.mail.managed", "com.apple.caldav.account", "com.apple.carddav.account"} {
		if _, ok := out[want]; !ok {
			t.Fatalf("no vendored schema for %s", want)
		}
	}
	return out
}

// checkAppleDict reports every way dict breaks keys: an unknown key, a
// value of another plist type, a missing required key, a value outside the
// range list.
func checkAppleDict(where string, dict map[string]any, keys []appleSchemaKey) []string {
	var errs []string
	byName := map[string]appleSchemaKey{}
	for _, k := range keys {
		byName[k.Key] = k
	}
	for name, v := range dict {
		k, ok := byName[name]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: key %s is not in Apple's schema", where, name))
			continue
		}
		if got := applePlistType(v); got != k.Type && k.Type != "<any>" {
			errs = append(errs, fmt.Sprintf("%s: %s is %s (%v), Apple's schema says %s", where, name, got, v, k.Type))
			continue
		}
		if len(k.RangeList) > 0 && !slices.ContainsFunc(k.RangeList, func(r any) bool { return fmt.Sprint(r) == fmt.Sprint(v) }) {
			errs = append(errs, fmt.Sprintf("%s: %s is %v, not one of %v", where, name, v, k.RangeList))
		}
	}
	for _, k := range keys {
		if _, ok := dict[k.Key]; !ok && k.Presence == "required" {
			errs = append(errs, fmt.Sprintf("%s: the required key %s is missing", where, k.Key))
		}
	}
	return errs
}

// applePlistType names v's type as the schema files do, from what
// howett.net/plist decodes each plist element to.
func applePlistType(v any) string {
	switch v.(type) {
	case string:
		return "<string>"
	case uint64, int64:
		return "<integer>"
	case float64, float32:
		return "<real>"
	case bool:
		return "<boolean>"
	case []any:
		return "<array>"
	case map[string]any:
		return "<dictionary>"
	case []byte:
		return "<data>"
	case time.Time:
		return "<date>"
	}
	return fmt.Sprintf("%T", v)
}

// Every profile the writer makes, with and without the password, follows
// Apple's device-management schema for the profile's top level and for
// each payload (mail, CalDAV, CardDAV): the keys, their plist types (ports
// as integers, which mailcow once wrote as reals and iOS refused), the
// required keys and the allowed values.
func TestApplePayloadsFollowAppleSchema(t *testing.T) {
	schemas := loadAppleSchemas(t)
	common := schemas["CommonPayloadKeys"].PayloadKeys
	seen := map[string]bool{}
	for _, tc := range testCases {
		for _, password := range []string{"", "s3cret"} {
			var b bytes.Buffer
			if err := AppleMobileconfig(&b, tc.account(t), AppleOptions{Password: password}); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var profile map[string]any
			if _, err := plist.Unmarshal(b.Bytes(), &profile); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			errs := checkAppleDict(tc.name+": top level", profile, schemas["TopLevel"].PayloadKeys)
			content, _ := profile["PayloadContent"].([]any)
			for i, item := range content {
				payload, ok := item.(map[string]any)
				if !ok {
					errs = append(errs, fmt.Sprintf("%s: PayloadContent[%d] is no dictionary", tc.name, i))
					continue
				}
				typ, _ := payload["PayloadType"].(string)
				s, ok := schemas[typ]
				if !ok || strings.HasPrefix(typ, "TopLevel") {
					errs = append(errs, fmt.Sprintf("%s: PayloadContent[%d] has type %q, which has no vendored schema", tc.name, i, typ))
					continue
				}
				seen[typ] = true
				keys := append(slices.Clone(common), s.PayloadKeys...)
				errs = append(errs, checkAppleDict(fmt.Sprintf("%s: %s", tc.name, typ), payload, keys)...)
			}
			for _, e := range errs {
				t.Error(e)
			}
		}
	}
	for _, typ := range []string{"com.apple.mail.managed", "com.apple.caldav.account", "com.apple.carddav.account"} {
		if !seen[typ] {
			t.Errorf("no test case made a %s payload", typ)
		}
	}
}

// The checker itself: a real where an integer belongs, an unknown key, a
// missing required key and a value outside the range list are each found.
func TestAppleSchemaCheckerFindsMistakes(t *testing.T) {
	schemas := loadAppleSchemas(t)
	keys := append(slices.Clone(schemas["CommonPayloadKeys"].PayloadKeys), schemas["com.apple.caldav.account"].PayloadKeys...)
	good := map[string]any{
		"CalDAVHostName": "dav.example.test", "CalDAVPort": uint64(443), "CalDAVUseSSL": true,
		"PayloadIdentifier": "a", "PayloadType": "com.apple.caldav.account", "PayloadUUID": "u", "PayloadVersion": uint64(1),
	}
	if errs := checkAppleDict("good", good, keys); len(errs) != 0 {
		t.Fatalf("a valid payload: %v", errs)
	}
	for name, change := range map[string]func(map[string]any){
		"real port":     func(m map[string]any) { m["CalDAVPort"] = 443.0 },
		"unknown key":   func(m map[string]any) { m["CalDAVHost"] = "x" },
		"no host":       func(m map[string]any) { delete(m, "CalDAVHostName") },
		"string as SSL": func(m map[string]any) { m["CalDAVUseSSL"] = "true" },
	} {
		bad := map[string]any{}
		for k, v := range good {
			bad[k] = v
		}
		change(bad)
		if errs := checkAppleDict(name, bad, keys); len(errs) == 0 {
			t.Errorf("%s: not found", name)
		}
	}
	mail := append(slices.Clone(schemas["CommonPayloadKeys"].PayloadKeys), schemas["com.apple.mail.managed"].PayloadKeys...)
	if errs := checkAppleDict("mail", map[string]any{"EmailAccountType": "EmailTypeJMAP"}, mail); !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, "not one of") }) {
		t.Errorf("a value outside the range list is not found: %v", errs)
	}
}

// The DAV payloads carry what the account's files promise: host, port,
// SSL, the context URL, the login name, and stable identifiers.
func TestAppleDAVPayloads(t *testing.T) {
	tc := testCases[slices.IndexFunc(testCases, func(c testCase) bool { return c.name == "dav-split" })]
	var b bytes.Buffer
	if err := AppleMobileconfig(&b, tc.account(t), AppleOptions{}); err != nil {
		t.Fatal(err)
	}
	var profile struct{ PayloadContent []map[string]any }
	if _, err := plist.Unmarshal(b.Bytes(), &profile); err != nil {
		t.Fatal(err)
	}
	if len(profile.PayloadContent) != 3 {
		t.Fatalf("%d payloads, want mail, CalDAV, CardDAV", len(profile.PayloadContent))
	}
	cal, card := profile.PayloadContent[1], profile.PayloadContent[2]
	addr, _ := autoconfig.ParseAddress(tc.address)
	calID, calUUID := appleDAVIdentifiers(addr, autoconfig.CalDAV)
	for k, want := range map[string]any{
		"CalDAVHostName": "calendar.split.test", "CalDAVPort": uint64(8443), "CalDAVUseSSL": true,
		"CalDAVPrincipalURL": "https://calendar.split.test:8443/caldav/", "CalDAVUsername": "sam",
		"PayloadIdentifier": calID, "PayloadUUID": calUUID,
	} {
		if cal[k] != want {
			t.Errorf("CalDAV %s = %v, want %v", k, cal[k], want)
		}
	}
	for k, want := range map[string]any{
		"CardDAVHostName": "contacts.split.test", "CardDAVPort": uint64(443), "CardDAVUseSSL": true,
		"CardDAVUsername": "sam@split.test",
	} {
		if card[k] != want {
			t.Errorf("CardDAV %s = %v, want %v", k, card[k], want)
		}
	}
	if card["CardDAVPrincipalURL"] != "https://contacts.split.test/" {
		t.Errorf("CardDAVPrincipalURL = %v", card["CardDAVPrincipalURL"])
	}
}
