package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// The payload follows the version-1 layout, carries the display name and no
// password, and uses the format's numbers for protocol, security and auth.
func TestAndroidQRPayload(t *testing.T) {
	for _, tc := range subjects(t) {
		acct := tc.acct
		payload, err := AndroidQRPayload(acct)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var root []json.RawMessage
		if err := json.Unmarshal(payload, &root); err != nil || len(root) != 4 {
			t.Fatalf("%s: root %s: %v", tc.name, payload, err)
		}
		var version int
		var seq []int
		var incoming []any
		var groups [][][]any
		json.Unmarshal(root[0], &version)
		json.Unmarshal(root[1], &seq)
		json.Unmarshal(root[2], &incoming)
		if err := json.Unmarshal(root[3], &groups); err != nil {
			t.Fatalf("%s: groups: %v", tc.name, err)
		}
		in, out := acct.In(), acct.Out()
		wantProto := map[autoconfig.Protocol]float64{autoconfig.IMAP: 0, autoconfig.POP3: 1}[in.Protocol]
		if version != 1 || len(seq) != 2 || seq[0] != 1 || seq[1] != 1 {
			t.Errorf("%s: version %d, sequence %v", tc.name, version, seq)
		}
		if len(incoming) != 6 || incoming[0] != wantProto || incoming[1] != in.Hostname ||
			incoming[2] != float64(in.Port) || incoming[3] != float64(qrSecurity[in.Security]) || incoming[5] != in.Username {
			t.Errorf("%s: incoming %v", tc.name, incoming)
		}
		if len(groups) != 1 || len(groups[0]) != 2 {
			t.Fatalf("%s: groups %v", tc.name, groups)
		}
		smtp, identity := groups[0][0], groups[0][1]
		if len(smtp) != 6 || smtp[0] != float64(0) || smtp[1] != out.Hostname || smtp[2] != float64(out.Port) {
			t.Errorf("%s: outgoing %v", tc.name, smtp)
		}
		if len(identity) != 2 || identity[0] != acct.Address.ASCII() || identity[1] != tc.display {
			t.Errorf("%s: identity %v", tc.name, identity)
		}
	}
}

// zbarimg, an independent QR decoder, reads the PNG back to the same JSON.
// (Thunderbird for Android itself cannot be run here: not tried in the client.)
func TestAndroidQRDecodes(t *testing.T) {
	zbarimg := needTool(t, "zbarimg")
	dir := t.TempDir()
	for _, tc := range subjects(t) {
		files := tc.files
		png := writeTemp(t, dir, tc.name+".png", fileData(t, files, "android/thunderbird-qr.png"))
		text := bytes.TrimSuffix(fileData(t, files, "android/thunderbird-qr.txt"), []byte("\n"))
		out, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sbinary", png).Output()
		if err != nil {
			t.Fatalf("%s: zbarimg: %v", tc.name, err)
		}
		if got := bytes.TrimSuffix(out, []byte("\n")); !bytes.Equal(got, text) {
			t.Errorf("%s: the QR code reads\n%s\nwant\n%s", tc.name, got, text)
		}
	}
}

func TestAndroidRejectsUnicodeLocalPart(t *testing.T) {
	p := loadProvider(t, "imap-pop3.xml")
	addr, err := autoconfig.ParseAddress("jürgen@example.test")
	if err != nil {
		t.Fatal(err)
	}
	acct, err := NewAccount(p, addr, "Jürgen", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AndroidQRPayload(acct); err == nil || !strings.Contains(err.Error(), "ASCII") {
		t.Errorf("UTF-8 local part: got %v", err)
	}
	// Render stops at the first file that cannot be written and says which.
	_, err = Render(acct, AllFormats, Options{})
	if !errors.Is(err, ErrUnsupported) || !strings.HasPrefix(err.Error(), "android/thunderbird-qr.png: ") || strings.Count(err.Error(), "ASCII") != 1 {
		t.Errorf("Render: got %v", err)
	}
}
