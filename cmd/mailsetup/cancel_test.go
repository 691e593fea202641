package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/testnet"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// stalled is a resolver where no DNS answer ever comes: every call waits for
// its context. With a dialer that hangs every dial it is a network where
// nothing answers.
type stalled struct{}

func (stalled) LookupSRV(ctx context.Context, _ string) ([]netx.SRV, netx.Meta, error) {
	<-ctx.Done()
	return nil, netx.Meta{}, ctx.Err()
}
func (stalled) LookupMX(ctx context.Context, _ string) ([]netx.MX, netx.Meta, error) {
	<-ctx.Done()
	return nil, netx.Meta{}, ctx.Err()
}
func (stalled) LookupAddrs(ctx context.Context, _ string) ([]netip.Addr, netx.Meta, error) {
	<-ctx.Done()
	return nil, netx.Meta{}, ctx.Err()
}
func (stalled) LookupTLSA(ctx context.Context, _ string) ([]netx.TLSA, netx.Meta, error) {
	<-ctx.Done()
	return nil, netx.Meta{}, ctx.Err()
}

func stalledNetwork(timeout time.Duration) networkSetup {
	return func(ctx context.Context) (probe.Options, func(), error) {
		dialer := &testnet.Dialer{}
		dialer.Hang("*")
		return probe.Options{Env: netx.Env{Resolver: stalled{}, Dialer: dialer}, Timeout: timeout}, func() {}, nil
	}
}

// runWithContext runs a command like runCommand, under ctx.
func runWithContext(ctx context.Context, newCmd func(f *Factory) *cobra.Command, asJSON bool, args ...string) (code int, stdout, stderr string) {
	ios, _, out, errOut := iostreams.Test()
	f := &Factory{IO: ios, JSON: asJSON}
	cmd := newCmd(f)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	err := cmd.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, errSilentMarker) {
		errOut.WriteString("mailsetup: " + peopleWords(err) + "\n")
	}
	return exitCodeOf(err), out.String(), errOut.String()
}

func probeCmd(network networkSetup) func(f *Factory) *cobra.Command {
	return func(f *Factory) *cobra.Command {
		var cmd *cobra.Command
		cmd = newCmdProbe(f, func(o *probeOptions) error {
			o.Network = network
			return runProbe(cmd.Context(), o)
		})
		return cmd
	}
}

// Time running out before anything was proven says so: exit 3, status
// timed-out, and in words how long there was.
func TestProbeTimeRanOut(t *testing.T) {
	network := stalledNetwork(300 * time.Millisecond)
	code, stdout, stderr := runWithContext(context.Background(), probeCmd(network), false, "alice@stalled.test")
	if code != exitNothingFound || !strings.Contains(stderr, "time ran out after 0.3 s; try a longer --timeout") {
		t.Errorf("exit %d, stderr %q; want 3 and the time-out in words\n%s", code, stderr, stdout)
	}
	if strings.Contains(stdout, "Nothing works") {
		t.Errorf("a time-out was called nothing working:\n%s", stdout)
	}
	code, stdout, _ = runWithContext(context.Background(), probeCmd(network), true, "alice@stalled.test")
	var rep probe.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.Status != probe.StatusTimedOut || code != exitNothingFound {
		t.Errorf("--json: exit %d, status %q (%v)", code, rep.Status, err)
	}
}

func profileCmd(network networkSetup) func(f *Factory) *cobra.Command {
	return func(f *Factory) *cobra.Command {
		var cmd *cobra.Command
		cmd = newCmdProfile(f, func(o *profileOptions) error {
			o.Network = network
			return runProfile(cmd.Context(), o)
		})
		return cmd
	}
}

// Ctrl-C (a cancelled context: Main's signal handler) during a probe ends
// probe and profile with exit 2 and "cancelled", in words and in JSON.
func TestCtrlCDuringProbeIsCancelled(t *testing.T) {
	network := stalledNetwork(time.Hour)
	for _, tc := range []struct {
		cmd  func(f *Factory) *cobra.Command
		args []string
	}{
		{probeCmd(network), []string{"alice@stalled.test"}},
		{profileCmd(network), []string{"alice@stalled.test", "--name", "Alice", "--out", t.TempDir() + "/out"}},
	} {
		for _, asJSON := range []bool{false, true} {
			ctx, cancel := context.WithCancel(context.Background())
			// The network never answers, so the probe is still running
			// whenever this comes, on a fast machine or a slow one.
			time.AfterFunc(50*time.Millisecond, cancel)
			code, stdout, stderr := runWithContext(ctx, tc.cmd, asJSON, tc.args...)
			cancel()
			if code != exitUsage || (!asJSON && !strings.Contains(stderr, "cancelled")) {
				t.Errorf("%v json=%v: exit %d, stderr %q; want 2 and cancelled", tc.args, asJSON, code, stderr)
			}
			if !asJSON {
				if strings.Contains(stdout, "Nothing works") {
					t.Errorf("%v: a cancelled probe was reported as nothing working:\n%s", tc.args, stdout)
				}
				continue
			}
			var res struct{ Status probe.Status }
			if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Status != probe.StatusCancelled {
				t.Errorf("%v --json: status %q (%v)\n%s", tc.args, res.Status, err, stdout)
			}
		}
	}
}

// A batch user whose provider never answered ran out of time, and says so.
func TestBatchUserTimedOut(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name\nalice@stalled.test,Alice\n")
	code, _, stderr := batchRun(t, &batchOptions{Network: stalledNetwork(300 * time.Millisecond), UsersFile: users,
		Out: filepath.Join(dir, "out"), Formats: "sheet", Concurrency: 1})
	if code != exitBatchPartial || !strings.Contains(stderr, "timed-out") || !strings.Contains(stderr, "try a longer --timeout") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// A batch whose user's servers stop answering logins ends within its
// --timeout (issue 12): the login goes through the prober, whose budget is
// the one bound, not the fixed per-attempt time and verdict window batch's
// own login code had (26 s). The bound allows for a starved machine.
func TestBatchEndsWithinItsTimeoutAgainstStallingServers(t *testing.T) {
	const budget = 3 * time.Second
	sandboxed := sandboxNetwork(t, nil, "slow-after-failure")
	network := func(ctx context.Context) (probe.Options, func(), error) {
		opts, release, err := sandboxed(ctx)
		opts.Timeout = budget
		return opts, release, err
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "alice.pw"), "a wrong password\n")
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name,password_file\nalice@penalty.test,Alice,alice.pw\n")
	start := time.Now()
	code, _, stderr := batchRun(t, &batchOptions{Network: network, UsersFile: users,
		Out: filepath.Join(dir, "out"), Formats: "sheet", Concurrency: 1})
	if took := time.Since(start); took > budget+10*time.Second {
		t.Errorf("batch took %v with --timeout %v", took, budget)
	}
	if code != exitBatchPartial || !strings.Contains(stderr, "login-rejected") {
		t.Errorf("exit %d, want %d with the user login-rejected\n%s", code, exitBatchPartial, stderr)
	}
}
