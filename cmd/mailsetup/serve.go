package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
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
/healthz and /metrics (Prometheus), and a setup page for people at /: type
an address, get the file or the steps for your device (page: in the file).

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
	logs := newServeLog(streams.ErrOut, cfg.Log)
	logger := slog.New(logs)
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

	var ls server.Listeners
	closeAll := func() {
		for _, l := range []net.Listener{ls.HTTP, ls.HTTPS, ls.Metrics} {
			if l != nil {
				l.Close()
			}
		}
	}
	for _, l := range []struct {
		addr, key, hint string
		into            *net.Listener
	}{
		{cfg.Listen.HTTP, "listen.http", "; choose another with --listen", &ls.HTTP},
		{cfg.Listen.HTTPS, "listen.https", "", &ls.HTTPS},
		{cfg.Listen.Metrics, "metrics.listen", "", &ls.Metrics},
	} {
		if l.addr == "" {
			continue
		}
		if *l.into, err = net.Listen("tcp", l.addr); err != nil {
			closeAll()
			if l.key == "listen.http" && opts.listen != "" {
				l.key = "--listen"
			}
			return worded{fmt.Sprintf("%s: %s", l.key, listenProblem(l.addr, err, l.hint)), err}
		}
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				next, err := srv.ReloadWith(opts.load)
				if err != nil {
					logger.Error("reload refused; still serving the previous configuration", "err", err)
					continue
				}
				logs.apply(next.Log)
			}
		}
	}()
	if opts.listening != nil {
		opts.listening(addrOf(ls.HTTP), addrOf(ls.HTTPS))
	}
	return srv.Serve(ctx, ls)
}

func addrOf(l net.Listener) net.Addr {
	if l == nil {
		return nil
	}
	return l.Addr()
}

// serveLog is the server's log handler, writing to stderr (journald and
// container runtimes collect it there). A reload applies logging.level and
// logging.format to it, so the server keeps its one logger.
type serveLog struct {
	w     io.Writer
	level *slog.LevelVar
	cur   *atomic.Pointer[slog.Handler]
	// with replays WithAttrs/WithGroup calls on whichever handler is current.
	with []func(slog.Handler) slog.Handler
}

func newServeLog(w io.Writer, lg server.Logging) *serveLog {
	l := &serveLog{w: w, level: new(slog.LevelVar), cur: new(atomic.Pointer[slog.Handler])}
	l.apply(lg)
	return l
}

// apply switches to lg's level and format.
func (l *serveLog) apply(lg server.Logging) {
	l.level.Set(lg.Level)
	hopts := &slog.HandlerOptions{Level: l.level}
	var h slog.Handler = slog.NewTextHandler(l.w, hopts)
	if lg.JSON {
		h = slog.NewJSONHandler(l.w, hopts)
	}
	l.cur.Store(&h)
}

func (l *serveLog) Enabled(_ context.Context, level slog.Level) bool { return level >= l.level.Level() }

func (l *serveLog) Handle(ctx context.Context, r slog.Record) error {
	h := *l.cur.Load()
	for _, f := range l.with {
		h = f(h)
	}
	return h.Handle(ctx, r)
}

func (l *serveLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return l.derive(func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) })
}

func (l *serveLog) WithGroup(name string) slog.Handler {
	return l.derive(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}

func (l *serveLog) derive(f func(slog.Handler) slog.Handler) *serveLog {
	d := *l
	d.with = append(append([]func(slog.Handler) slog.Handler(nil), l.with...), f)
	return &d
}

// listenProblem says why the address could not be listened on, in words:
// net says "listen tcp: address 99999: invalid port", and only a port in
// use earns the hint to choose another.
func listenProblem(addr string, err error, hint string) string {
	_, port, splitErr := net.SplitHostPort(addr)
	if splitErr != nil {
		return fmt.Sprintf("%q is not an address with a port, such as :8080 or 127.0.0.1:8080", addr)
	}
	if n, convErr := strconv.Atoi(port); convErr != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("in %q, the port %q is not a number from 1 to 65535", addr, port)
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Sprintf("another server is already on %s%s", addr, hint)
	case errors.Is(err, syscall.EACCES):
		return fmt.Sprintf("no permission to listen on %s (ports below 1024 need root or CAP_NET_BIND_SERVICE)", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("%s is not an address of this machine", addr)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return fmt.Sprintf("cannot listen on %s: %v", addr, oe.Err)
	}
	return fmt.Sprintf("cannot listen on %s: %v", addr, err)
}
