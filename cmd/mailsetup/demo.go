package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/account"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

// demoScenario is the sandbox scenario the demo probes: a provider with
// SRV records, autoconfig, IMAP, POP3 and SMTP on every standard port.
const demoScenario = "demo"

// demoName is the display name in the demo's profiles.
const demoName = "Alice (mailsetup demo)"

type demoOptions struct {
	IO   *iostreams.IOStreams
	JSON bool
	// Out is where every profile is written; each run replaces the files
	// of the previous one there, and refuses a folder holding other files
	// unless Force.
	Out   string
	Force bool
	// Probe is probe.Run; tests give the demo and profile the same findings.
	Probe probeFunc
	// Services is --services, as in profile, wizard and batch.
	Services string
}

func newCmdDemo(f *Factory, runF func(*demoOptions) error) *cobra.Command {
	opts := &demoOptions{IO: f.IO, Probe: probe.Run}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "See mailsetup work in a simulated mail world (no network, a few seconds)",
		Long: `Start a small simulated mail internet inside this process (DNS, autoconfig,
IMAP, POP3 and SMTP servers on loopback, with a private certificate
authority), probe its demo address with its password, print what was found,
what works and why IMAP is recommended, and write the files for every mail
client into ./mailsetup-demo/ (or --out DIR; a later demo replaces them, and
a folder holding other files is refused unless --force).
Nothing leaves this machine and nothing needs privileges.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = f.JSON
			if runF != nil {
				return runF(opts)
			}
			return runDemo(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "mailsetup-demo", "`DIR`ectory to write every profile into (a previous demo's files there are replaced)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "write into --out even when it holds files the demo did not write")
	addServicesFlag(cmd, &opts.Services)
	return cmd
}

// demoRun is what a demo probe produced, for the steps that follow it.
type demoRun struct {
	Scenario sandbox.Scenario
	Report   *probe.Report
}

// demoProbe starts the sandbox's demo world, probes the demo address with
// its password through run and closes the world. progress, when not nil,
// sees each step.
func demoProbe(ctx context.Context, run probeFunc, progress func(probe.Event)) (*demoRun, error) {
	w, err := sandbox.Start(ctx, sandbox.Options{Scenarios: []string{demoScenario}})
	if err != nil {
		return nil, fmt.Errorf("starting the simulated mail world: %w", err)
	}
	defer w.Close()
	sc := w.Scenarios()[0]
	rep, err := run(ctx, probe.Options{
		Env:      w.Env(),
		ISPDBURL: w.ISPDBURL(),
		Password: []byte(sc.Password),
		// The scenario's login name, when it is not the address, is tried
		// first, as profile --username does.
		Username: sc.Username,
		Progress: progress,
	}, sc.Address)
	if err != nil {
		return nil, err
	}
	return &demoRun{Scenario: sc, Report: rep}, nil
}

func runDemo(ctx context.Context, opts *demoOptions) error {
	services, err := parseServices(opts.Services)
	if err != nil {
		return err
	}
	if !opts.Force {
		if err := checkDemoOut(opts.Out, demoAddress()); err != nil {
			return err
		}
	}
	status := newStatusLine(opts.IO, "Probing the simulated provider: ")
	if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "mailsetup demo: a simulated provider (%s) runs inside this process on loopback;\nnothing leaves this machine.\n\n", demoScenario)
	}
	run, err := demoProbe(ctx, opts.Probe, status.progress())
	status.clear()
	if err != nil {
		return err
	}
	if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "Test account: %s (password known to the simulated servers)\n\n", run.Scenario.Address)
		if err := printReport(opts.IO, false, run.Report); err != nil {
			return err
		}
	}
	var files []profiles.File
	if run.Report.Recommendation != nil {
		addr, err := autoconfig.ParseAddress(run.Scenario.Address)
		if err != nil {
			return err
		}
		settings, err := account.FromReport(run.Report)
		if err != nil {
			return err
		}
		// The demo address is ASCII: every client takes it, so nothing is omitted.
		r, err := account.Render(settings, addr, account.Answers{Name: demoName, Formats: profiles.AllFormats, Services: services})
		if err != nil {
			return err
		}
		files = r.Files
		if err := profiles.WriteFiles(opts.Out, withDemoMarker(files), true); err != nil {
			return err
		}
		if !opts.JSON {
			fmt.Fprintln(opts.IO.Out)
			printWritten(opts.IO.Out, opts.Out, files)
		}
	}
	if opts.JSON {
		if err := writeJSON(opts.IO.Out, newDemoResult(opts.Out, run, files)); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(opts.IO.Out, "\nSet up your own account: mailsetup wizard\n                     or: mailsetup probe you@your-provider.example --password-stdin\n")
	}
	return probeExit(run.Report, probe.DefaultTimeout)
}
