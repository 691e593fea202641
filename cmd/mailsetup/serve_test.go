package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/internal/iostreams"
)

func TestServeFlags(t *testing.T) {
	io, _, _, _ := iostreams.Test()
	var got *serveOptions
	cmd := newCmdServe(&Factory{IO: io}, func(o *serveOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--config", "s.yaml", "--check", "--listen", "127.0.0.1:9"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.configPath != "s.yaml" || !got.check || got.listen != "127.0.0.1:9" {
		t.Errorf("options %+v", got)
	}
	if code, _, errOut := runMain(t, "serve"); code != exitUsage || !strings.Contains(errOut, "--config FILE") {
		t.Errorf("serve without --config: exit %d, %q", code, errOut)
	}
}

func TestServeCheck(t *testing.T) {
	code, out, errOut := runMain(t, "serve", "--check", "--config", "../../examples/serve.yaml")
	if code != exitOK || !strings.Contains(out, "OK: 2 domains (example.test, xn--bcher-kva.example.test)") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("listen: {http: \":8080\"}\ndomain:\n  - name: example.test\n"), 0o644)
	code, _, errOut = runMain(t, "serve", "--check", "--config", bad)
	if code != exitFailure || !strings.Contains(errOut, bad+":2: unknown key domain: see examples/serve.yaml for the keys") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// TestServeRunReloadStop runs the command, changes its file and sends SIGHUP,
// then SIGTERM, as systemd does.
func TestServeRunReloadStop(t *testing.T) {
	dir := t.TempDir()
	example, err := os.ReadFile("../../examples/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	xml, _ := os.ReadFile("../../examples/example.test.xml")
	os.WriteFile(filepath.Join(dir, "example.test.xml"), xml, 0o644)
	path := filepath.Join(dir, "serve.yaml")
	os.WriteFile(path, example, 0o644)

	streams, _, _, stderr := iostreams.Test()
	addrs := make(chan net.Addr, 1)
	opts := &serveOptions{f: &Factory{IO: streams}, configPath: path, listen: "127.0.0.1:0",
		listening: func(plain, _ net.Addr) { addrs <- plain }}
	done := make(chan error, 1)
	go func() { done <- runServe(context.Background(), opts) }()
	var base string
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatal(err)
	}
	status := func(host string) int {
		req, _ := http.NewRequest("GET", base+"/mail/config-v1.1.xml", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status("autoconfig.example.test"); s != 200 {
		t.Fatalf("status %d", s)
	}
	if s := status("autoconfig.new.test"); s != 404 {
		t.Fatalf("unknown domain: status %d", s)
	}

	// A new domain appears after SIGHUP, and the log switches to JSON.
	reloaded := strings.Replace(string(example), "aliases: [example-mail.test]", "aliases: [example-mail.test, new.test]", 1)
	reloaded = strings.Replace(reloaded, "format: text ", "format: json ", 1)
	if reloaded == string(example) || !strings.Contains(reloaded, "format: json") {
		t.Fatal("the example changed: the test cannot edit it")
	}
	os.WriteFile(path, []byte(reloaded), 0o644)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for status("autoconfig.new.test") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not load the new configuration")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A broken file is refused; the server keeps serving.
	os.WriteFile(path, []byte("nonsense: ["), 0o644)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	time.Sleep(100 * time.Millisecond)
	if s := status("autoconfig.new.test"); s != 200 {
		t.Fatalf("after a broken reload: status %d", s)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`mailsetup_serve_config_reloads_total{result="ok"} 1`, `mailsetup_serve_config_reloads_total{result="failed"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}

	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not stop the server")
	}
	// The reload applied logging.format: what came after it is JSON.
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	refused := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "reload refused") })
	if refused < 0 || !strings.HasPrefix(lines[0], "time=") {
		t.Fatalf("log:\n%s", stderr)
	}
	for _, l := range lines[refused:] {
		if !json.Valid([]byte(l)) {
			t.Errorf("not JSON after the reload to format: json: %s", l)
		}
	}
}

// An address serve cannot listen on says why: a port that is no port is
// not blamed on another server (issue 12).
func TestServeListenProblemsInWords(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct{ listen, want string }{
		{"127.0.0.1:99999", `--listen: in "127.0.0.1:99999", the port "99999" is not a number from 1 to 65535` + "\n"},
		{"127.0.0.1", `--listen: "127.0.0.1" is not an address with a port, such as :8080 or 127.0.0.1:8080` + "\n"},
		{taken.Addr().String(), "--listen: another server is already on " + taken.Addr().String() + "; choose another with --listen\n"},
	} {
		code, _, errOut := runMain(t, "serve", "--config", "../../examples/serve.yaml", "--listen", tc.listen)
		if code != exitFailure || !strings.HasSuffix(errOut, tc.want) {
			t.Errorf("--listen %s: exit %d, stderr %q; want %q", tc.listen, code, errOut, tc.want)
		}
	}
}
