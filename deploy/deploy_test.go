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
}

type k8sDoc struct {
	Kind string
	Data map[string]string
	Spec struct {
		Replicas    int
		AccessModes []string `yaml:"accessModes"`
		Selector    map[string]any
		Ports       []struct {
			Name       string
			Port       int
			TargetPort string `yaml:"targetPort"`
		}
		Template struct {
			Spec struct {
				Containers []struct {
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
}
