// Package deploy holds the files that run `mailsetup serve` in production;
// its test checks the fields that matter, as no container engine or init
// system runs the files here.
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/mailsetup/mailsetup/autoconfig/server"
)

// unitValues reads a systemd unit: section.key -> values, in order.
func unitValues(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: not key=value: %q", path, line)
			}
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	u := unitValues(t, "mailsetup-serve.service")
	want := map[string][]string{
		"Service.ExecStart":   {"/usr/local/bin/mailsetup serve --config /etc/mailsetup/serve.yaml"},
		"Service.ExecReload":  {"/usr/local/bin/mailsetup serve --check --config /etc/mailsetup/serve.yaml", "/bin/kill -HUP $MAINPID"},
		"Service.KillSignal":  {"SIGTERM"},
		"Service.Restart":     {"on-failure"},
		"Service.DynamicUser": {"yes"},
		"Install.WantedBy":    {"multi-user.target"},
	}
	for k, v := range want {
		if !slices.Equal(u[k], v) {
			t.Errorf("%s = %q, want %q", k, u[k], v)
		}
	}
	if !slices.Contains(u["Service.StateDirectory"], "mailsetup") {
		t.Error("no StateDirectory for the ACME cache")
	}
	// Sandboxing beyond the basics (issue 15).
	for k, v := range map[string]string{
		"ProtectClock": "yes", "ProtectKernelLogs": "yes", "ProtectHostname": "yes",
		"ProtectProc": "invisible", "ProcSubset": "pid", "RestrictRealtime": "yes",
		"UMask": "0077", "SystemCallErrorNumber": "EPERM",
	} {
		if !slices.Equal(u["Service."+k], []string{v}) {
			t.Errorf("Service.%s = %q, want %q", k, u["Service."+k], v)
		}
	}
	if !slices.Contains(u["Service.SystemCallFilter"], "~@privileged @resources") {
		t.Errorf("SystemCallFilter %q lacks ~@privileged @resources", u["Service.SystemCallFilter"])
	}
	checkMemoryLimit(t, "the systemd unit", envValue(u["Service.Environment"], "GOMEMLIMIT"), strings.Join(u["Service.MemoryMax"], ""))

	// The drop-in hands certbot's files over as credentials.
	creds := unitValues(t, "mailsetup-serve.service.d/letsencrypt.conf")["Service.LoadCredential"]
	names := map[string]bool{}
	for _, c := range creds {
		name, path, _ := strings.Cut(c, ":")
		if !strings.HasPrefix(path, "/etc/letsencrypt/live/") {
			t.Errorf("LoadCredential %q does not read /etc/letsencrypt/live", c)
		}
		names[name] = true
	}
	if !names["fullchain.pem"] || !names["privkey.pem"] {
		t.Errorf("LoadCredential %q: want fullchain.pem and privkey.pem", creds)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: unit checked by parsing only")
		return
	}
	// verify wants the executables to exist: point them at this test binary.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile("mailsetup-serve.service")
	data = bytes.ReplaceAll(data, []byte("/usr/local/bin/mailsetup"), []byte(exe))
	path := filepath.Join(t.TempDir(), "mailsetup-serve.service")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && bytes.Contains(out, []byte("System has not been booted with systemd")) {
			t.Skipf("systemd-analyze cannot run here: %s", out)
		}
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "mailsetup-serve.service") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}

// envValue finds NAME=VALUE among systemd Environment= values.
func envValue(values []string, name string) string {
	for _, v := range values {
		for _, kv := range strings.Fields(v) {
			if k, val, ok := strings.Cut(kv, "="); ok && k == name {
				return val
			}
		}
	}
	return ""
}

// mebibytes reads 64MiB, 96Mi, 96M (systemd's M is MiB) as MiB.
func mebibytes(s string) int {
	for _, suffix := range []string{"MiB", "Mi", "M"} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err == nil {
				return v
			}
		}
	}
	return 0
}

// checkMemoryLimit: a memory limit is set, GOMEMLIMIT below it, and both
// above the benchmark's measured peak (BENCHMARKS.md, serve) with room to
// spare; without GOMEMLIMIT the runtime would let the heap double before
// collecting and the kernel would kill the process first.
func checkMemoryLimit(t *testing.T, where, gomemlimit, limit string) {
	t.Helper()
	const measuredPeakMiB = 34
	soft, hard := mebibytes(gomemlimit), mebibytes(limit)
	if soft == 0 || (limit != "" && hard == 0) {
		t.Errorf("%s: GOMEMLIMIT %q, memory limit %q: set both in MiB", where, gomemlimit, limit)
		return
	}
	if soft < 3*measuredPeakMiB/2 || (limit != "" && soft >= hard) {
		t.Errorf("%s: GOMEMLIMIT %d MiB must be above the measured peak %d MiB with room, and under the limit %d MiB", where, soft, measuredPeakMiB, hard)
	}
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Instructions of the final stage, continuation lines joined.
	var final []string
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			final = nil
		}
		final = append(final, line)
	}
	has := func(want string) {
		t.Helper()
		if !slices.Contains(final, want) {
			t.Errorf("the final stage lacks %q:\n%s", want, strings.Join(final, "\n"))
		}
	}
	has(`ENTRYPOINT ["/usr/local/bin/mailsetup", "serve"]`)
	has(`CMD ["--config", "/etc/mailsetup/serve.yaml", "--listen", ":8080"]`)
	has("USER nonroot:nonroot")
	has("EXPOSE 8080 8443")
	has("COPY examples/serve.yaml examples/example.test.xml /etc/mailsetup/")
	if !strings.Contains(text, "serve --check --config examples/serve.yaml") {
		t.Error("the build does not check the configuration it ships")
	}
	// The ACME cache volume exists in the image, owned by nonroot, before
	// VOLUME declares it (else the runtime creates it owned by root).
	owned := slices.IndexFunc(final, func(l string) bool {
		f := strings.Fields(l)
		return len(f) == 5 && f[0] == "COPY" && slices.Contains(f, "--chown=65532:65532") && f[4] == "/var/lib/mailsetup"
	})
	volume := slices.Index(final, `VOLUME ["/var/lib/mailsetup"]`)
	if owned < 0 || volume < owned {
		t.Errorf("/var/lib/mailsetup is not created owned by nonroot (65532) before its VOLUME:\n%s", strings.Join(final, "\n"))
	}
	var memlimit string
	for _, l := range final {
		if v, ok := strings.CutPrefix(l, "ENV GOMEMLIMIT="); ok {
			memlimit = v
		}
	}
	checkMemoryLimit(t, "the Dockerfile", memlimit, "")
	if dockerfileVersion(t) == "" {
		t.Error("the Dockerfile has no ARG VERSION= default")
	}
}

// dockerfileVersion is the Dockerfile's default ARG VERSION.
func dockerfileVersion(t *testing.T) string {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ARG VERSION="); ok {
			return v
		}
	}
	return ""
}

type k8sDoc struct {
	Kind string
	Data map[string]string
	Spec struct {
		Replicas              int
		AccessModes           []string `yaml:"accessModes"`
		Selector              map[string]any
		ExternalTrafficPolicy string `yaml:"externalTrafficPolicy"`
		MinAvailable          int    `yaml:"minAvailable"`
		Ports                 []struct {
			Name       string
			Port       int
			TargetPort string `yaml:"targetPort"`
		}
		Template struct {
			Metadata struct {
				Annotations map[string]string
			}
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				SecurityContext               struct {
					SeccompProfile struct{ Type string } `yaml:"seccompProfile"`
				} `yaml:"securityContext"`
				Containers []struct {
					Image     string
					Env       []struct{ Name, Value string }
					Lifecycle struct {
						PreStop struct {
							Sleep struct{ Seconds int }
						} `yaml:"preStop"`
					}
					Resources struct {
						Limits map[string]string
					}
					Args  []string
					Ports []struct {
						Name          string
						ContainerPort int `yaml:"containerPort"`
					}
					ReadinessProbe struct {
						HTTPGet struct {
							Path string
							Port string
						} `yaml:"httpGet"`
					} `yaml:"readinessProbe"`
					VolumeMounts []struct {
						Name      string
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				}
				Volumes []struct {
					Name                  string
					PersistentVolumeClaim *struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				}
			}
		}
	}
}

func TestKubernetes(t *testing.T) {
	f, err := os.Open("kubernetes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	docs := map[string]k8sDoc{}
	dec := yaml.NewDecoder(f)
	for {
		var d k8sDoc
		if err := dec.Decode(&d); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		docs[d.Kind] = d
	}

	// The shipped configuration checks out.
	cfg, err := server.ParseConfig([]byte(docs["ConfigMap"].Data["serve.yaml"]), "kubernetes.yaml ConfigMap serve.yaml")
	if err != nil {
		t.Fatal(err)
	}

	dep := docs["Deployment"]
	if dep.Spec.Replicas < 2 {
		t.Errorf("replicas %d: run at least two", dep.Spec.Replicas)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Args, []string{"--config", "/etc/mailsetup/serve.yaml"}) {
		t.Errorf("args %q", c.Args)
	}
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ":"+strconv.Itoa(ports["http"]) != cfg.Listen.HTTP || ":"+strconv.Itoa(ports["https"]) != cfg.Listen.HTTPS {
		t.Errorf("container ports %v do not match listen %+v", ports, cfg.Listen)
	}
	if p := c.ReadinessProbe.HTTPGet; p.Path != "/healthz" || ports[p.Port] == 0 {
		t.Errorf("readiness probe %+v, want /healthz on a container port", p)
	}
	// The ACME cache is on the shared (ReadWriteMany) volume.
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name == "acme" && strings.HasPrefix(cfg.TLS.ACME.CacheDir, m.MountPath+"/") {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("tls.acme.cache_dir %s is not on the acme volume", cfg.TLS.ACME.CacheDir)
	}
	if pvc := docs["PersistentVolumeClaim"]; !slices.Equal(pvc.Spec.AccessModes, []string{"ReadWriteMany"}) {
		t.Errorf("the ACME cache volume is %v, replicas need ReadWriteMany", pvc.Spec.AccessModes)
	}
	svc := docs["Service"]
	for _, p := range svc.Spec.Ports {
		if ports[p.TargetPort] == 0 {
			t.Errorf("service port %d targets %q, which the container does not name", p.Port, p.TargetPort)
		}
	}
	if len(svc.Spec.Ports) != 2 {
		t.Errorf("service ports %+v, want 80 and 443", svc.Spec.Ports)
	}

	// The topology of issue 15: clients connect directly and keep their
	// addresses, so no proxy is trusted; /metrics is on a port the Service
	// does not forward.
	if svc.Spec.ExternalTrafficPolicy != "Local" {
		t.Errorf("externalTrafficPolicy %q: want Local, else clients share node addresses", svc.Spec.ExternalTrafficPolicy)
	}
	if len(cfg.Limit.TrustedProxies) != 0 {
		t.Errorf("trusted_proxies %v: behind an L4 balancer there is no proxy to trust", cfg.Limit.TrustedProxies)
	}
	if cfg.Listen.Metrics == "" || ":"+strconv.Itoa(ports["metrics"]) != cfg.Listen.Metrics {
		t.Errorf("metrics.listen %q is not the container's metrics port %d", cfg.Listen.Metrics, ports["metrics"])
	}
	for _, p := range svc.Spec.Ports {
		if p.TargetPort == "metrics" || p.Port == ports["metrics"] {
			t.Errorf("the Service exposes the metrics port: %+v", p)
		}
	}
	if a := dep.Spec.Template.Metadata.Annotations; a["prometheus.io/port"] != strconv.Itoa(ports["metrics"]) {
		t.Errorf("prometheus.io/port %q, want the metrics port", a["prometheus.io/port"])
	}
	pod := dep.Spec.Template.Spec
	if pod.SecurityContext.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("pod seccompProfile %q, want RuntimeDefault", pod.SecurityContext.SeccompProfile.Type)
	}
	drain := c.Lifecycle.PreStop.Sleep.Seconds
	if drain < 1 || pod.TerminationGracePeriodSeconds < drain+int(cfg.Timeouts.Shutdown.Seconds()) {
		t.Errorf("preStop sleep %d s and terminationGracePeriodSeconds %d: want a drain delay, and time for it plus timeouts.shutdown %s",
			drain, pod.TerminationGracePeriodSeconds, cfg.Timeouts.Shutdown)
	}
	if pdb := docs["PodDisruptionBudget"]; pdb.Spec.MinAvailable < 1 || pdb.Spec.MinAvailable >= dep.Spec.Replicas {
		t.Errorf("PodDisruptionBudget minAvailable %d with %d replicas", pdb.Spec.MinAvailable, dep.Spec.Replicas)
	}
	name, tag, _ := strings.Cut(c.Image, ":")
	if name == "" || tag != dockerfileVersion(t) {
		t.Errorf("image %q: want the version the Dockerfile builds (%q), never latest", c.Image, dockerfileVersion(t))
	}
	var memlimit string
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			memlimit = e.Value
		}
	}
	checkMemoryLimit(t, "the Deployment", memlimit, c.Resources.Limits["memory"])
}
