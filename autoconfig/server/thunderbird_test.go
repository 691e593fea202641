package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// thunderbirdTools is the Thunderbird judge (README there); the test runs
// only with MAILSETUP_THUNDERBIRD=1, as it starts the real Thunderbird.
const thunderbirdTools = "../../../shared/tools/thunderbird"

type tbServer struct {
	Type           string
	Hostname       string
	Port           int
	SocketTypeName string
	Username       string
}

type tbResult struct {
	Input    string
	Accepted bool
	Email    string
	Config   struct {
		Incoming             tbServer
		IncomingAlternatives []tbServer
		Outgoing             tbServer
		OutgoingAlternatives []tbServer
	}
	Error any
}

var tbSecurity = map[string]autoconfig.Security{"SSL": autoconfig.SecurityTLS, "alwaysSTARTTLS": autoconfig.SecuritySTARTTLS, "plain": autoconfig.SecurityPlain}

func (s tbServer) key() serverKey {
	return serverKey{autoconfig.Protocol(s.Type), s.Hostname, s.Port, tbSecurity[s.SocketTypeName], s.Username}
}

func runThunderbird(t *testing.T, tool string, args ...string) []tbResult {
	t.Helper()
	cmd := exec.Command(filepath.Join(thunderbirdTools, tool), append([]string{"--batch", "--compact", "--content-type", "application/xml"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("%s: %v\n%s", tool, err, stderr.String())
	}
	var results []tbResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r tbResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v\n%s", tool, err, sc.Bytes())
		}
		results = append(results, r)
	}
	return results
}

// TestThunderbirdReadsServedAnswers serves the answers the way each client
// fetches them and hands the bytes to the real Thunderbird's readers: what
// it would configure must be the configured settings.
func TestThunderbirdReadsServedAnswers(t *testing.T) {
	if os.Getenv("MAILSETUP_THUNDERBIRD") != "1" {
		t.Skip("set MAILSETUP_THUNDERBIRD=1 to judge the answers with the real Thunderbird")
	}
	srv, ts, _ := testServer(t)
	dir := t.TempDir()
	domains := []string{"example.test", "xn--bcher-kva.test", "files.test", "example-mail.test"}

	// Autoconfig, as Thunderbird for Android fetches it (no address); the
	// judge fills the placeholders for testuser@ the file's first domain.
	var files []string
	for _, d := range domains {
		resp, body := fetch(t, ts, http.MethodGet, "autoconfig."+d, "/mail/config-v1.1.xml", "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", d, resp.StatusCode)
		}
		name := filepath.Join(dir, d+".xml")
		os.WriteFile(name, body, 0o644)
		files = append(files, name)
	}
	results := runThunderbird(t, "tb-parse-autoconfig", files...)
	if len(results) != len(files) {
		t.Fatalf("%d results for %d files", len(results), len(files))
	}
	for i, r := range results {
		d := domains[i]
		if !r.Accepted {
			t.Errorf("%s: Thunderbird rejects the autoconfig answer: %v", d, r.Error)
			continue
		}
		addr, _ := autoconfig.ParseAddress(r.Email)
		w := want(t, srv, d)
		got := []tbServer{r.Config.Incoming}
		got = append(got, r.Config.IncomingAlternatives...)
		var gotKeys []serverKey
		for _, s := range got {
			gotKeys = append(gotKeys, s.key())
		}
		if g, e := fmt.Sprint(gotKeys), fmt.Sprint(keys(w.Incoming, &addr)); g != e {
			t.Errorf("%s: Thunderbird's incoming servers:\n got %s\nwant %s", d, g, e)
		}
		if g, e := fmt.Sprint(r.Config.Outgoing.key()), fmt.Sprint(keys(w.Outgoing[:1], &addr)[0]); g != e {
			t.Errorf("%s: Thunderbird's outgoing server:\n got %s\nwant %s", d, g, e)
		}
	}

	// Autodiscover, as Outlook (and Thunderbird's fallback) POSTs it.
	for _, email := range []string{"Alice@Example.test", "jürgen@bücher.test"} {
		addr, _ := autoconfig.ParseAddress(email)
		_, body := postAutodiscover(t, ts, "autodiscover."+addr.Domain, "/Autodiscover/Autodiscover.xml", email)
		name := filepath.Join(dir, addr.Domain+".autodiscover.xml")
		os.WriteFile(name, body, 0o644)
		rs := runThunderbird(t, "tb-parse-autodiscover", name, "--email", addr.ASCII())
		if len(rs) != 1 || !rs[0].Accepted {
			t.Fatalf("%s: Thunderbird rejects the Autodiscover answer: %+v", email, rs)
		}
		w := firstOfEach(want(t, srv, addr.Domain))
		r := rs[0]
		if g, e := fmt.Sprint(r.Config.Incoming.key()), fmt.Sprint(keys(w.Incoming[:1], &addr)[0]); g != e {
			t.Errorf("%s: Thunderbird's incoming server from Autodiscover:\n got %s\nwant %s", email, g, e)
		}
		if g, e := fmt.Sprint(r.Config.Outgoing.key()), fmt.Sprint(keys(w.Outgoing, &addr)[0]); g != e {
			t.Errorf("%s: Thunderbird's outgoing server from Autodiscover:\n got %s\nwant %s", email, g, e)
		}
	}
}
