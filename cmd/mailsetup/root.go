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
	"github.com/spf13/pflag"

	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/profiles"
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
				return usageError("%s (see '%s --help')", argsWords(c, args), c.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		argsAreUsage(sub)
	}
}

// argsWords says what is wrong with a command's arguments in its own
// terms, from its usage line, instead of cobra's "accepts 1 arg(s)".
func argsWords(c *cobra.Command, args []string) string {
	usage := "mailsetup " + c.Use
	var operands []string
	afterFlag := false
	for _, w := range strings.Fields(c.Use)[1:] {
		switch {
		case strings.HasPrefix(w, "-"):
			afterFlag = true
			continue
		case !afterFlag && !strings.HasPrefix(w, "["):
			operands = append(operands, w)
		}
		afterFlag = false
	}
	switch {
	case len(args) == 0 && len(operands) > 0:
		return fmt.Sprintf("give %s, as in '%s'", strings.TrimSuffix(operands[0], "..."), usage)
	case len(operands) == 0:
		return fmt.Sprintf("%q is not something '%s' takes: use flags, as in '%s'", args[0], c.CommandPath(), usage)
	}
	return fmt.Sprintf("too many arguments (%s): the form is '%s'", strings.Join(args, " "), usage)
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
	// --version under --json prints what 'version --json' prints.
	root.SetVersionTemplate(`{{if eq (.Flags.Lookup "json").Value.String "true"}}{
  "schema_version": ` + fmt.Sprint(jsonSchemaVersion) + `,
  "version": {{printf "%q" .Version}}
}{{else}}mailsetup {{.Version}}{{end}}
`)
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
	completeValues(root)
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

// completeValues lets shell completion offer the values of --sandbox,
// --format and --protocol in every command that has them.
func completeValues(cmd *cobra.Command) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	var scenarios []string
	for _, sc := range sandbox.Catalogue() {
		scenarios = append(scenarios, sc.Name+"\t"+sc.Description)
	}
	formats := []string{"all"}
	for _, f := range profiles.AllFormats {
		formats = append(formats, string(f))
	}
	// --format takes a comma-separated list: complete its last item.
	formatList := func(_ *cobra.Command, _ []string, typed string) ([]string, cobra.ShellCompDirective) {
		done := typed[:strings.LastIndex(typed, ",")+1]
		var out []string
		for _, f := range formats {
			if f != "all" || done == "" {
				out = append(out, done+f)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
	for flag, complete := range map[string]cobra.CompletionFunc{
		"sandbox":  fixed(scenarios...),
		"protocol": fixed("imap", "pop3"),
		"format":   formatList,
	} {
		if cmd.Flags().Lookup(flag) != nil {
			cmd.RegisterFlagCompletionFunc(flag, complete)
		}
	}
	for _, sub := range cmd.Commands() {
		completeValues(sub)
	}
}

// flagWords is a flag that would not parse, in words: pflag says
// `invalid argument "1" for "--timeout" flag: time: missing unit in
// duration "1"`, which names Go's parser rather than what to type.
func flagWords(err error) string {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) {
		return oneLine(err.Error())
	}
	name := "--" + ive.GetFlag().Name
	var want string
	switch ive.GetFlag().Value.Type() {
	case "duration":
		want = "give a duration with a unit, such as 15s or 2m"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		want = "give a whole number"
	case "float32", "float64":
		want = "give a number"
	case "bool":
		want = "give true or false"
	default:
		want = oneLine(errors.Unwrap(ive).Error())
	}
	return fmt.Sprintf("%s %q: %s", name, ive.GetValue(), want)
}

func isFlagValueError(err error) bool {
	var ive *pflag.InvalidValueError
	return errors.As(err, &ive)
}
