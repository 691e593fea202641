package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig/server"
)

// serveCheckJSON is `serve --check --json` (docs/json-schema.md). A
// configuration that does not check out prints no document: the error goes
// to standard error with exit code 1, as for every command.
type serveCheckJSON struct {
	SchemaVersion int      `json:"schema_version"`
	Config        string   `json:"config"`
	OK            bool     `json:"ok"`
	Domains       []string `json:"domains"`
}

type serveOptions struct {
	f          *Factory
	configPath string
	check      bool
	listen     string
	// listening, when set, is told the bound addresses once the server is
	// up and its signal handlers are in place (tests listen on port 0).
	listening func(plain, secure net.Addr)
}

func newCmdServe(f *Factory, runF func(*serveOptions) error) *cobra.Command {
	opts := &serveOptions{f: f}
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Answer mail clients' autoconfiguration requests for your domains",
		Long: `Run an autoconfiguration server for a mail hoster's domains. It answers
Thunderbird autoconfig (/mail/config-v1.1.xml, also .well-known), Outlook
Autodiscover (POST /autodiscover/autodiscover.xml in any case, and
autodiscover.json), Apple profiles (/mail.mobileconfig?emailaddress=), an
Android setup page with the Thunderbird QR code (/android?emailaddress=),
/healthz and /metrics (Prometheus).

The configuration is one YAML file; examples/serve.yaml documents every key.
SIGHUP re-reads it (and certificate files) without dropping a request; a
configuration that does not check out is refused and the old one kept.
SIGTERM and Ctrl-C stop the server after the requests in flight.`,
		Example: "  mailsetup serve --check --config examples/serve.yaml\n" +
			"  mailsetup serve --config /etc/mailsetup/serve.yaml\n" +
			"  mailsetup serve --config serve.yaml --listen 127.0.0.1:8080",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.configPath == "" {
				return usageError("serve needs --config FILE (start from examples/serve.yaml)")
			}
			if f.JSON && !opts.check {
				return usageError("--json goes with --check only: the running server logs as configured under logging:")
			}
			if runF != nil {
				return runF(opts)
			}
			return runServe(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.configPath, "config", "", "the configuration `FILE` (YAML)")
	cmd.Flags().BoolVar(&opts.check, "check", false, "check the configuration and exit")
	cmd.Flags().StringVar(&opts.listen, "listen", "", "plain-HTTP listen `ADDR` instead of the file's listen.http")
	return cmd
}

func (opts *serveOptions) load() (*server.Config, error) {
	cfg, err := server.LoadConfig(opts.configPath)
	if err != nil {
		return nil, err
	}
	if opts.listen != "" {
		cfg.Listen.HTTP = opts.listen
	}
	return cfg, nil
}

func runServe(ctx context.Context, opts *serveOptions) error {
	streams := opts.f.IO
	cfg, err := opts.load()
	if err != nil {
		return err
	}
	logger := newServeLogger(streams.ErrOut, cfg)
	srv, err := server.New(cfg, logger)
	if err != nil {
		return err
	}
	if opts.check {
		if opts.f.JSON {
			return writeJSON(streams.Out, serveCheckJSON{SchemaVersion: jsonSchemaVersion, Config: opts.configPath, OK: true, Domains: cfg.Domains()})
		}
		noun := "domains"
		if len(cfg.Domains()) == 1 {
			noun = "domain"
		}
		fmt.Fprintf(streams.Out, "%s: OK: %d %s (%s)\n", opts.configPath, len(cfg.Domains()), noun, strings.Join(cfg.Domains(), ", "))
		return nil
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var plain, secure net.Listener
	if cfg.Listen.HTTP != "" {
		if plain, err = net.Listen("tcp", cfg.Listen.HTTP); err != nil {
			return fmt.Errorf("listen.http: %w (is another server on that port? choose one with --listen)", err)
		}
	}
	if cfg.Listen.HTTPS != "" {
		if secure, err = net.Listen("tcp", cfg.Listen.HTTPS); err != nil {
			if plain != nil {
				plain.Close()
			}
			return fmt.Errorf("listen.https: %w", err)
		}
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				next, err := opts.load()
				if err == nil {
					err = srv.Reload(next)
				}
				if err != nil {
					logger.Error("reload refused; still serving the previous configuration", "err", err)
				}
			}
		}
	}()
	if opts.listening != nil {
		opts.listening(addrOf(plain), addrOf(secure))
	}
	return srv.Serve(ctx, plain, secure)
}

func addrOf(l net.Listener) net.Addr {
	if l == nil {
		return nil
	}
	return l.Addr()
}

// newServeLogger writes the structured log to stderr (journald and container
// runtimes collect it there).
func newServeLogger(w io.Writer, cfg *server.Config) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: cfg.Log.Level}
	if cfg.Log.JSON {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}
