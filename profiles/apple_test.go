package profiles

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/testnet"
)

// Keys Apple's device-management schema marks as required
// (mdm/profiles/TopLevel.yaml and com.apple.mail.managed.yaml).
var (
	appleTopRequired  = []string{"PayloadContent", "PayloadIdentifier", "PayloadType", "PayloadUUID", "PayloadVersion"}
	appleMailRequired = []string{"PayloadIdentifier", "PayloadType", "PayloadUUID", "PayloadVersion",
		"EmailAccountType", "IncomingMailServerHostName", "IncomingMailServerAuthentication",
		"OutgoingMailServerHostName", "OutgoingMailServerAuthentication"}
	// Keys whose schema type is integer or boolean: a <real> or <string>
	// there makes iOS refuse the profile.
	appleIntegers = []string{"PayloadVersion", "IncomingMailServerPortNumber", "OutgoingMailServerPortNumber"}
	appleBools    = []string{"IncomingMailServerUseSSL", "OutgoingMailServerUseSSL", "PayloadRemovalDisallowed",
		"OutgoingPasswordSameAsIncomingPassword"}
)

func parseProfile(t *testing.T, data []byte) (top, mail map[string]any) {
	t.Helper()
	if _, err := plist.Unmarshal(data, &top); err != nil {
		t.Fatalf("plist: %v", err)
	}
	content, ok := top["PayloadContent"].([]any)
	// The mail payload first; the CalDAV and CardDAV ones follow
	// (TestApplePayloadsFollowAppleSchema).
	if !ok || len(content) < 1 || len(content) > 3 {
		t.Fatalf("PayloadContent = %#v, want the mail payload and at most two DAV payloads", top["PayloadContent"])
	}
	mail, ok = content[0].(map[string]any)
	if !ok {
		t.Fatalf("payload is %T", content[0])
	}
	return top, mail
}

func checkTypes(t *testing.T, name string, d map[string]any) {
	t.Helper()
	for _, k := range appleIntegers {
		if v, ok := d[k]; ok {
			if _, isInt := v.(uint64); !isInt {
				if _, isInt := v.(int64); !isInt {
					t.Errorf("%s: %s is %T, want an integer", name, k, v)
				}
			}
		}
	}
	for _, k := range appleBools {
		if v, ok := d[k]; ok {
			if _, isBool := v.(bool); !isBool {
				t.Errorf("%s: %s is %T, want a boolean", name, k, v)
			}
		}
	}
}

func TestAppleProfile(t *testing.T) {
	for _, tc := range subjects(t) {
		acct := tc.acct
		data := tc.file(t, tc.applePath())
		top, mail := parseProfile(t, data)
		for _, k := range appleTopRequired {
			if _, ok := top[k]; !ok {
				t.Errorf("%s: profile lacks %s", tc.name, k)
			}
		}
		for _, k := range appleMailRequired {
			if _, ok := mail[k]; !ok {
				t.Errorf("%s: mail payload lacks %s", tc.name, k)
			}
		}
		checkTypes(t, tc.name, top)
		checkTypes(t, tc.name, mail)
		if top["PayloadType"] != "Configuration" || mail["PayloadType"] != "com.apple.mail.managed" {
			t.Errorf("%s: payload types %v / %v", tc.name, top["PayloadType"], mail["PayloadType"])
		}
		if mail["EmailAccountName"] != tc.display || mail["EmailAddress"] != acct.Address.ASCII() {
			t.Errorf("%s: name/address %v / %v", tc.name, mail["EmailAccountName"], mail["EmailAddress"])
		}
		if _, ok := mail["IncomingPassword"]; ok {
			t.Errorf("%s: password without --include-password", tc.name)
		}
		wantType := map[autoconfig.Protocol]string{autoconfig.IMAP: "EmailTypeIMAP", autoconfig.POP3: "EmailTypePOP"}[acct.Incoming.Protocol]
		if mail["EmailAccountType"] != wantType {
			t.Errorf("%s: EmailAccountType %v, want %s", tc.name, mail["EmailAccountType"], wantType)
		}
		// Identifiers depend on the address alone: a second run, or
		// another display name, replaces rather than duplicates.
		other := acct
		other.DisplayName = "Someone Else"
		var again bytes.Buffer
		if err := AppleMobileconfig(&again, other, AppleOptions{}); err != nil {
			t.Fatal(err)
		}
		top2, mail2 := parseProfile(t, again.Bytes())
		for _, k := range []string{"PayloadIdentifier", "PayloadUUID"} {
			if top[k] != top2[k] || mail[k] != mail2[k] {
				t.Errorf("%s: %s changes between runs", tc.name, k)
			}
		}
		if top["PayloadUUID"] == mail["PayloadUUID"] {
			t.Errorf("%s: profile and payload share a UUID", tc.name)
		}
	}
}

// Where the provider offers implicit TLS, the profile uses it even when the
// chosen server is STARTTLS; where it does not, the STARTTLS port stays.
func TestAppleImplicitTLS(t *testing.T) {
	p := loadProvider(t, "imap-pop3.xml")
	addr, _ := autoconfig.ParseAddress("jane.doe@example.test")
	acct, err := NewAccount(p, addr, "Jane", "")
	if err != nil {
		t.Fatal(err)
	}
	acct.Incoming = p.Incoming[1] // IMAP 143 STARTTLS
	acct.Outgoing = p.Outgoing[1] // SMTP 587 STARTTLS
	var b bytes.Buffer
	if err := AppleMobileconfig(&b, acct, AppleOptions{}); err != nil {
		t.Fatal(err)
	}
	_, mail := parseProfile(t, b.Bytes())
	if mail["IncomingMailServerPortNumber"] != uint64(993) || mail["OutgoingMailServerPortNumber"] != uint64(465) {
		t.Errorf("ports %v/%v, want the implicit-TLS 993/465", mail["IncomingMailServerPortNumber"], mail["OutgoingMailServerPortNumber"])
	}

	starttls := testCases[3]
	_, mail = parseProfile(t, fileData(t, starttls.render(t), "apple/"+AppleFileName(starttls.account(t).Address)))
	if mail["IncomingMailServerPortNumber"] != uint64(143) || mail["IncomingMailServerUseSSL"] != true {
		t.Errorf("STARTTLS-only: %v ssl=%v", mail["IncomingMailServerPortNumber"], mail["IncomingMailServerUseSSL"])
	}
}

func TestAppleRejectsOAuthOnly(t *testing.T) {
	p := loadProvider(t, "imap-pop3.xml")
	for i := range p.Incoming {
		p.Incoming[i].Auth = []autoconfig.AuthMethod{autoconfig.AuthOAuth2}
	}
	addr, _ := autoconfig.ParseAddress("jane.doe@example.test")
	acct, err := NewAccount(p, addr, "Jane", "")
	if err != nil {
		t.Fatal(err)
	}
	err = AppleMobileconfig(&bytes.Buffer{}, acct, AppleOptions{})
	if err == nil || !strings.Contains(err.Error(), "OAuth2") {
		t.Errorf("OAuth2-only: got %v", err)
	}
}

// Python's plistlib, an independent reader, parses every profile to the
// same types.
func TestAppleProfilePlistlib(t *testing.T) {
	py := needTool(t, "python3")
	dir := t.TempDir()
	var files []string
	for _, tc := range subjects(t) {
		files = append(files, writeTemp(t, dir, tc.name+".mobileconfig", tc.file(t, tc.applePath())))
	}
	script := `
import plistlib, sys
for f in sys.argv[1:]:
    with open(f, "rb") as fh:
        p = plistlib.load(fh)
    m = p["PayloadContent"][0]
    assert type(p["PayloadVersion"]) is int and type(m["PayloadVersion"]) is int, f
    assert type(m["IncomingMailServerPortNumber"]) is int, f
    assert type(m["OutgoingMailServerPortNumber"]) is int, f
    assert type(m["IncomingMailServerUseSSL"]) is bool, f
    for k in ("EmailAccountType", "IncomingMailServerHostName", "IncomingMailServerAuthentication",
              "OutgoingMailServerHostName", "OutgoingMailServerAuthentication", "PayloadUUID", "PayloadIdentifier"):
        assert isinstance(m[k], str) and m[k], (f, k)
print("ok", len(sys.argv) - 1)
`
	out, err := exec.Command(py, append([]string{"-c", script}, files...)...).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok") {
		t.Errorf("plistlib: %v\n%s", err, out)
	}
}

// testPKI makes a CA and a leaf signed by it, as PEM.
func testPKI(t testing.TB) (caPEM, leafPEM, keyPEM []byte) {
	t.Helper()
	ca := testnet.NewCA(t, "mailsetup test CA")
	leafPEM, keyPEM = testnet.PEM(t, ca.Leaf(t, "profiles.example.test"))
	return ca.PEM(), leafPEM, keyPEM
}

// A signed profile verifies with openssl against the CA, and the content it
// carries is the unsigned profile, byte for byte.
func TestAppleSignedVerifies(t *testing.T) {
	openssl := needTool(t, "openssl")
	caPEM, leafPEM, keyPEM := testPKI(t)
	signer, err := NewSigner(leafPEM, keyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	tc := testCases[0]
	acct := tc.account(t)
	var plain, signed bytes.Buffer
	if err := AppleMobileconfig(&plain, acct, AppleOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := AppleMobileconfig(&signed, acct, AppleOptions{Signer: signer}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := writeTemp(t, dir, "ca.pem", caPEM)
	in := writeTemp(t, dir, "signed.mobileconfig", signed.Bytes())
	content := filepath.Join(dir, "content.plist")
	out, err := exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", in,
		"-CAfile", ca, "-purpose", "any", "-out", content).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	got := readFile(t, content)
	if !bytes.Equal(got, plain.Bytes()) {
		t.Error("the signed content is not the unsigned profile")
	}
	// Signed by another CA, it must not verify.
	otherCA, _, _ := testPKI(t)
	other := writeTemp(t, dir, "other-ca.pem", otherCA)
	if err := exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", in,
		"-CAfile", other, "-purpose", "any", "-out", filepath.Join(dir, "x")).Run(); err == nil {
		t.Error("verified against a CA that did not sign it")
	}
}

func TestNewSignerRejectsMismatchedKey(t *testing.T) {
	_, leafPEM, _ := testPKI(t)
	_, _, otherKey := testPKI(t)
	if _, err := NewSigner(leafPEM, otherKey, nil); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("mismatched key: got %v", err)
	}
	if _, err := NewSigner([]byte("not pem"), otherKey, nil); err == nil {
		t.Error("a certificate file without PEM was accepted")
	}
}
