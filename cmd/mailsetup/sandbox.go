package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/sandbox"
)

type sandboxOptions struct {
	IO       *iostreams.IOStreams
	JSON     bool
	List     bool
	BindReal bool
	Latency  time.Duration
	// CAFile is where the CA certificate is written; empty means a
	// temporary file, removed on exit.
	CAFile    string
	Scenarios []string
	// wait holds the world open; by default until ctx ends (Ctrl-C).
	wait func(ctx context.Context, w *sandbox.World) error
}

func newCmdSandbox(f *Factory, runF func(*sandboxOptions) error) *cobra.Command {
	opts := &sandboxOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "sandbox [SCENARIO...]",
		Short: "Run the simulated mail world that tests and the demo use, until Ctrl-C",
		Long: `Run the built-in simulated mail internet on loopback: an authoritative DNS
server, autoconfig, Autodiscover and ISPDB web services, and IMAP, POP3 and
SMTP servers with a private certificate authority, for the named scenarios
(all of them when none is named). It prints the DNS server, the CA file and
each scenario's test account (address and password), then runs until Ctrl-C.

Without privileges only the DNS server is reachable from other programs; the
mail and web hosts it names answer only inside mailsetup: try
'mailsetup probe ADDRESS --sandbox SCENARIO' (add --password-stdin with the
scenario's password to test the login; 'mailsetup sandbox --list --json'
shows it). As root on
Linux, --bind-real binds every host's real ports on its own 127.x address
and the DNS server on 127.53.0.1:53, so that an unmodified program can use
it with --dns-server and --ca-file.`,
		Example: `  mailsetup sandbox --list
  mailsetup probe alice@demo.test --sandbox demo
  echo sandbox-Pa55-demo | mailsetup probe alice@demo.test --sandbox demo --password-stdin
  sudo mailsetup sandbox demo --bind-real --ca-file ca.pem
  mailsetup probe alice@demo.test --dns-server 127.53.0.1:53 --ca-file ca.pem --password-stdin`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = f.JSON
			if len(args) > 0 {
				opts.Scenarios = args
			}
			if opts.List && len(args) > 0 {
				return usageError("--list takes no scenario names")
			}
			if opts.Latency < 0 {
				return usageError("--latency %s is negative; try --latency 50ms", opts.Latency)
			}
			if runF != nil {
				return runF(opts)
			}
			return runSandbox(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.List, "list", false, "print the scenario names, one a line, and exit")
	cmd.Flags().BoolVar(&opts.BindReal, "bind-real", false, "bind real ports on 127.x addresses and DNS on 127.53.0.1:53 (root, Linux)")
	cmd.Flags().DurationVar(&opts.Latency, "latency", 0, "add this `delay` to every DNS answer, connect and server reply")
	cmd.Flags().StringVar(&opts.CAFile, "ca-file", "", "write the CA certificate to `FILE` (default: a temporary file, removed on exit)")
	return cmd
}

// sandboxAccount is one scenario's test account, as printed.
type sandboxAccount struct {
	Scenario    string `json:"scenario"`
	Description string `json:"description"`
	Address     string `json:"address"`
	Username    string `json:"username"`
	Password    string `json:"password"`
}

// sandboxInfo is what `mailsetup sandbox --json` prints once the world runs.
type sandboxInfo struct {
	SchemaVersion int              `json:"schema_version"`
	DNSServer     string           `json:"dns_server"`
	CAFile        string           `json:"ca_file"`
	ISPDBURL      string           `json:"ispdb_url"`
	BindReal      bool             `json:"bind_real"`
	Accounts      []sandboxAccount `json:"accounts"`
}

func runSandbox(ctx context.Context, opts *sandboxOptions) error {
	if opts.List {
		return listScenarios(opts)
	}
	if opts.BindReal && os.Geteuid() != 0 {
		return usageError("--bind-real binds ports below 1024 and needs root; without it, try 'mailsetup probe ADDRESS --sandbox SCENARIO'")
	}
	w, err := sandbox.Start(ctx, sandbox.Options{Scenarios: opts.Scenarios, Latency: opts.Latency, BindReal: opts.BindReal})
	if errors.Is(err, sandbox.ErrUnknownScenario) {
		return withExitCode(exitUsage, err)
	}
	if err != nil {
		return err
	}
	defer w.Close()

	caFile, cleanup, err := writeSandboxCA(opts.CAFile, w.CACertPEM())
	if err != nil {
		return err
	}
	defer cleanup()

	info := sandboxInfo{
		SchemaVersion: jsonSchemaVersion,
		DNSServer:     w.DNSServer(), CAFile: caFile, ISPDBURL: w.ISPDBURL(), BindReal: opts.BindReal,
	}
	for _, sc := range w.Scenarios() {
		info.Accounts = append(info.Accounts, sandboxAccount{
			Scenario: sc.Name, Description: sc.Description, Address: sc.Address, Username: sc.Login(), Password: sc.Password,
		})
	}
	if opts.JSON {
		if err := writeJSON(opts.IO.Out, info); err != nil {
			return err
		}
	} else {
		printSandbox(opts, info)
	}
	wait := opts.wait
	if wait == nil {
		wait = func(ctx context.Context, _ *sandbox.World) error {
			<-ctx.Done()
			return nil
		}
	}
	return wait(ctx, w)
}

func listScenarios(opts *sandboxOptions) error {
	cat := sandbox.Catalogue()
	if opts.JSON {
		type entry struct {
			Name         string `json:"name"`
			Description  string `json:"description"`
			Address      string `json:"address"`
			Password     string `json:"password"`
			CriticalPath int    `json:"critical_path"`
		}
		list := make([]entry, 0, len(cat))
		for _, sc := range cat {
			list = append(list, entry{sc.Name, sc.Description, sc.Address, sc.Password, sc.CriticalPath})
		}
		return writeJSON(opts.IO.Out, struct {
			SchemaVersion int     `json:"schema_version"`
			Scenarios     []entry `json:"scenarios"`
		}{jsonSchemaVersion, list})
	}
	for _, sc := range cat {
		fmt.Fprintln(opts.IO.Out, sc.Name)
	}
	return nil
}

func printSandbox(opts *sandboxOptions, info sandboxInfo) {
	out := opts.IO.Out
	scenarios := "scenarios run"
	if len(info.Accounts) == 1 {
		scenarios = "scenario runs"
	}
	fmt.Fprintf(out, "mailsetup sandbox: %d %s on loopback; Ctrl-C stops the sandbox.\n\n", len(info.Accounts), scenarios)
	fmt.Fprintf(out, "DNS server: %s\nCA file:    %s\nISPDB:      %s\n\nTest accounts:\n", info.DNSServer, info.CAFile, info.ISPDBURL)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SCENARIO\tADDRESS\tUSERNAME\tPASSWORD")
	for _, a := range info.Accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Scenario, a.Address, a.Username, a.Password)
	}
	tw.Flush()
	first := info.Accounts[0]
	if info.BindReal {
		fmt.Fprintf(out, "\nTry, from any shell:\n  echo %s | mailsetup probe %s --dns-server %s --ca-file %s --password-stdin\n",
			first.Password, first.Address, info.DNSServer, info.CAFile)
		return
	}
	// Unprivileged, the mail and web hosts share one 127.0.0.1 port that
	// only mailsetup's own dialer maps onto: another program (or another
	// mailsetup given --dns-server) finds their names but gets "connection
	// refused" from their addresses.
	fmt.Fprintf(out, "\nNot bound to real ports: the DNS server above answers, but the mail and web hosts it names\n"+
		"are NOT reachable from other programs (connecting gives \"connection refused\"). Reach them\n"+
		"in-process:  echo %s | mailsetup probe %s --sandbox %s --password-stdin\n"+
		"or run this as root with --bind-real to bind their real ports.\n", first.Password, first.Address, first.Scenario)
}

// writeSandboxCA writes the CA certificate to path (atomically), or to a
// temporary file when path is empty; cleanup removes a temporary file.
func writeSandboxCA(path string, pem []byte) (string, func(), error) {
	if path == "" {
		f, err := os.CreateTemp("", "mailsetup-sandbox-ca-*.pem")
		if err != nil {
			return "", nil, fmt.Errorf("writing the sandbox CA: %w", err)
		}
		name := f.Name()
		_, werr := f.Write(pem)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(name)
			return "", nil, fmt.Errorf("writing the sandbox CA: %w", werr)
		}
		return name, func() { os.Remove(name) }, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, fmt.Errorf("--ca-file %q: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), ".mailsetup-ca-*")
	if err != nil {
		return "", nil, fmt.Errorf("--ca-file %q: %w; choose a writable folder", path, err)
	}
	_, werr := tmp.Write(pem)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		// A CA certificate is public: readable by all, like any other.
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), abs)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return "", nil, fmt.Errorf("--ca-file %q: %w", path, werr)
	}
	return abs, func() {}, nil
}
