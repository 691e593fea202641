package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/internal/iostreams"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Factory holds what every command shares: the streams and the global flags.
type Factory struct {
	IO *iostreams.IOStreams
	// JSON is the global --json flag: machine-readable output on stdout.
	JSON bool
}

// Main runs mailsetup with args and returns the process exit code.
func Main(io *iostreams.IOStreams, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := &Factory{IO: io}
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	argsAreUsage(root)
	err := root.ExecuteContext(ctx)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		err = usageError("%v; 'mailsetup --help' lists the commands", err)
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		fmt.Fprintln(io.ErrOut, "mailsetup: cancelled; nothing was written")
		return exitUsage
	}
	if !errors.Is(err, errSilentMarker) {
		fmt.Fprintf(io.ErrOut, "mailsetup: %s\n", terminalSafe(peopleWords(err)))
	}
	return exitCodeOf(err)
}

// argsAreUsage makes every command's argument check end with the usage exit
// code and a pointer to its help, like a bad flag does.
func argsAreUsage(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageError("%v (see '%s --help')", err, c.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		argsAreUsage(sub)
	}
}

func newRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "mailsetup",
		Short: "Find, prove and write e-mail account settings",
		Long: `mailsetup finds a mail provider's IMAP, POP3 and SMTP servers, proves they
work, recommends IMAP, and writes files that Outlook, Thunderbird,
iPhone/Mac and Android import as they are.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError("%v (see '%s --help')", err, cmd.CommandPath())
	})
	root.PersistentFlags().BoolVar(&f.JSON, "json", false, "print machine-readable JSON (schema: docs/json-schema.md)")

	root.AddCommand(
		newCmdVersion(f),
		newCmdLint(f, nil),
		newCmdServe(f, nil),
		newCmdDNSRecords(f, nil),
		newCmdProbe(f, nil),
		newCmdDemo(f, nil),
		newCmdProfile(f, nil),
		newCmdWizard(f, nil),
		newCmdBatch(f, nil),
		newCmdSandbox(f, nil),
	)
	root.AddCommand(&cobra.Command{
		Use:   "exit-codes",
		Short: "What each exit code of mailsetup means",
		Long:  exitCodesHelp,
	})
	return root
}

func newCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print mailsetup's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.JSON {
				return writeJSON(f.IO.Out, struct {
					SchemaVersion int    `json:"schema_version"`
					Version       string `json:"version"`
				}{jsonSchemaVersion, version})
			}
			fmt.Fprintf(f.IO.Out, "mailsetup %s\n", version)
			return nil
		},
	}
}
