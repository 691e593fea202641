package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe"
)

// buildMailsetup builds the command as users get it.
func buildMailsetup(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mailsetup")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/mailsetup/mailsetup/cmd/mailsetup").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestCLIProbe runs the unmodified binary the way an administrator points
// it at servers on their real ports: `mailsetup probe --dns-server
// --ca-file --password-stdin --json`, and checks its exit codes.
func TestCLIProbe(t *testing.T) {
	r := needServers(t)
	bin := buildMailsetup(t)
	z := &zone{r: r}
	publishSRV(z, r.Good)
	publishSRV(z, r.Mismatch)
	dnsServer := startDNS(t, z)

	run := func(t *testing.T, email string) (int, []byte, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "probe", email,
			"--dns-server", dnsServer, "--ca-file", r.CAFile, "--private",
			"--password-stdin", "--json", "--timeout", "30s")
		cmd.Stdin = strings.NewReader(r.Password + "\n")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), stdout.Bytes(), stderr.String()
	}

	t.Run("login", func(t *testing.T) {
		code, out, stderr := run(t, r.Good.Email(r))
		if code != 0 {
			t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
		}
		var rep probe.Report
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("--json output: %v\n%s", err, out)
		}
		if rep.Recommendation == nil {
			t.Fatalf("no recommendation in %s", out)
		}
		wantEndpoint(t, "incoming", &rep.Recommendation.Incoming, autoconfig.IMAP, 993, autoconfig.SecurityTLS, r.Good.Domain)
		wantEndpoint(t, "outgoing", rep.Recommendation.Outgoing, autoconfig.SMTP, 465, autoconfig.SecurityTLS, r.Good.Domain)
	})

	t.Run("name-mismatch", func(t *testing.T) {
		if code, _, stderr := run(t, r.Mismatch.Email(r)); code != 5 {
			t.Errorf("exit %d, want 5 (only insecure servers); stderr:\n%s", code, stderr)
		}
	})
}
