package tbjudge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The driver below is the project's own: it starts the real Thunderbird
// headless on a throw-away profile (optionally holding a user.js of ours),
// talks Marionette to it, runs privileged ("chrome") JavaScript inside it,
// and reads back the prefs.js Thunderbird itself writes. The shared tools
// only parse files; this one lets Thunderbird create accounts.
//
// Marionette is Gecko's remote protocol (remote/marionette/ in
// mozilla-central): frames are "LENGTH:JSON", commands [0, id, name,
// params], replies [1, id, error, result]. Thunderbird 153 refuses the
// chrome context unless started with -remote-allow-system-access.

// thunderbirdBinary is Debian's Thunderbird; TB_BINARY names another.
func thunderbirdBinary() string {
	if b := os.Getenv("TB_BINARY"); b != "" {
		return b
	}
	if _, err := os.Stat("/usr/lib/thunderbird/thunderbird"); err == nil {
		return "/usr/lib/thunderbird/thunderbird"
	}
	return "thunderbird"
}

// harnessPrefs go after the file under test in the throw-away profile's
// user.js (later lines win): a quiet, offline Thunderbird that neither shows
// the Account Hub nor talks to anyone. Offline matters for a user.js
// account: a login at startup would open a password prompt, and the first
// window, which Marionette's NewSession waits for, would never settle.
var harnessPrefs = []struct {
	name  string
	value any
}{
	{"marionette.port", 0}, // a free port, written to <profile>/MarionetteActivePort
	{"mail.provider.suppress_dialog_on_startup", true},
	{"mailnews.start_page.enabled", false},
	{"mail.shell.checkDefaultClient", false},
	{"mailnews.database.global.indexer.enabled", false},
	{"toolkit.startup.max_resumed_crashes", -1},
	{"dom.ipc.processPrelaunch.enabled", false},
	{"fission.autostart", false},
	{"dom.ipc.processCount", 1},
	{"extensions.webextensions.remote", false},
	{"mailnews.auto_config_url", "http://127.0.0.1:9/ispdb-disabled/"},
	{"mailnews.auto_config.addons_url", "http://127.0.0.1:9/addons-disabled.json"},
	{"app.update.disabledForTesting", true},
	{"services.settings.server", "data:,#remote-settings-dummy/v1"},
	{"network.connectivity-service.enabled", false},
	{"network.captive-portal-service.enabled", false},
	{"datareporting.policy.dataSubmissionEnabled", false},
	{"datareporting.healthreport.uploadEnabled", false},
	{"mail.inappnotifications.enabled", false},
	{"offline.startup_state", 3}, // kAlwaysOffline
	{"offline.autoDetect", false},
	{"network.dns.forceResolve", "127.0.0.1"},
}

// Thunderbird is a running headless Thunderbird on a throw-away profile.
type Thunderbird struct {
	// Profile is the profile folder; prefs.js appears there on Quit.
	Profile string
	// Startup is how long Thunderbird took until its first window was ready.
	Startup time.Duration

	cmd     *exec.Cmd
	exited  chan struct{}
	conn    net.Conn
	r       *bufio.Reader
	lastID  int
	logPath string
}

// Start runs Thunderbird on a new profile whose user.js is userJS (nil for
// none) followed by the harness's own prefs and then overrides (for a
// user.js account: its server's login_at_startup false, or a password
// prompt blocks the first window), and waits until its first mail window is
// ready. It skips unless MAILSETUP_THUNDERBIRD=1; the test's
// cleanup kills Thunderbird and its child processes, whatever happens.
func Start(t testing.TB, userJS []byte, overrides map[string]any) *Thunderbird {
	t.Helper()
	if os.Getenv("MAILSETUP_THUNDERBIRD") != "1" {
		t.Skip("skipped: the real-Thunderbird check runs with MAILSETUP_THUNDERBIRD=1 (.ci/run sets it)")
	}
	bin, err := exec.LookPath(thunderbirdBinary())
	if err != nil {
		t.Fatalf("Thunderbird is not installed (%v): apt-get install thunderbird, as .ci/run does", err)
	}
	work := t.TempDir()
	tb := &Thunderbird{Profile: filepath.Join(work, "profile"), logPath: filepath.Join(work, "thunderbird.log")}
	home := filepath.Join(work, "home")
	for _, d := range []string{tb.Profile, home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var prefs bytes.Buffer
	prefs.Write(userJS)
	prefs.WriteString("\n// mailsetup test harness\n")
	for _, p := range harnessPrefs {
		v, _ := json.Marshal(p.value)
		fmt.Fprintf(&prefs, "user_pref(%q, %s);\n", p.name, v)
	}
	names := make([]string, 0, len(overrides))
	for n := range overrides {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v, _ := json.Marshal(overrides[n])
		fmt.Fprintf(&prefs, "user_pref(%q, %s);\n", n, v)
	}
	if err := os.WriteFile(filepath.Join(tb.Profile, "user.js"), prefs.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(tb.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	tb.cmd = exec.Command(bin, "--headless", "--marionette", "-remote-allow-system-access",
		"--no-remote", "--profile", tb.Profile)
	tb.cmd.Dir = work
	tb.cmd.Stdout, tb.cmd.Stderr = logf, logf
	// Side files (caches, crash reports) stay in the throw-away home.
	env := []string{"HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_DATA_HOME=" + filepath.Join(home, ".local/share"),
		"MOZ_CRASHREPORTER_DISABLE=1", "MOZ_HEADLESS=1"}
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "PATH", "LANG", "LC_ALL", "TMPDIR", "TB_BINARY":
			env = append(env, kv)
		}
	}
	tb.cmd.Env = env
	// Its own process group: the cleanup kills exactly Thunderbird and the
	// content processes it started, by that group's id.
	ownProcessGroup(tb.cmd)
	start := time.Now()
	if err := tb.cmd.Start(); err != nil {
		t.Fatalf("starting Thunderbird: %v", err)
	}
	tb.exited = make(chan struct{})
	go func() { tb.cmd.Wait(); close(tb.exited) }()
	t.Cleanup(tb.kill)

	// Thunderbird's startup takes 2.5-5 s here; the bound is for a machine
	// shared by many test suites, and only stops a hang.
	deadline := time.Now().Add(120 * time.Second)
	port := 0
	for port == 0 {
		select {
		case <-tb.exited:
			t.Fatalf("Thunderbird exited during startup (%v)\n%s", tb.cmd.ProcessState, tb.logTail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Thunderbird opened no Marionette port within 120 s\n%s", tb.logTail())
		}
		if b, err := os.ReadFile(filepath.Join(tb.Profile, "MarionetteActivePort")); err == nil {
			port, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
	}
	tb.conn, err = net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 30*time.Second)
	if err != nil {
		t.Fatalf("connecting to Marionette: %v", err)
	}
	tb.r = bufio.NewReader(tb.conn)
	tb.conn.SetDeadline(deadline)
	if _, err := tb.readFrame(); err != nil { // the hello
		t.Fatalf("Marionette hello: %v\n%s", err, tb.logTail())
	}
	// NewSession answers once the first mail window finished starting up.
	if _, err := tb.command("WebDriver:NewSession", map[string]any{}); err != nil {
		t.Fatalf("Marionette NewSession: %v\n%s", err, tb.logTail())
	}
	if _, err := tb.command("Marionette:SetContext", map[string]any{"value": "chrome"}); err != nil {
		t.Fatalf("Marionette chrome context: %v\n%s", err, tb.logTail())
	}
	tb.Startup = time.Since(start)
	return tb
}

// RunErr is Run for a script that may throw: the exception's text is
// returned as an error instead of failing the test.
func (tb *Thunderbird) RunErr(t testing.TB, script string, result any, args ...any) error {
	t.Helper()
	var raw json.RawMessage
	tb.Run(t, `try { const value = await (async () => {`+script+`})(); } catch (e) { resolve({__thrown: String(e)}); }`, &raw, args...)
	var thrown struct {
		Thrown string `json:"__thrown"`
	}
	if json.Unmarshal(raw, &thrown) == nil && thrown.Thrown != "" {
		return errors.New(thrown.Thrown)
	}
	if result != nil {
		return json.Unmarshal(raw, result)
	}
	return nil
}

// Run runs script inside Thunderbird as privileged (chrome) JavaScript. The
// script gets args as arguments[0..] and finishes by calling
// resolve(VALUE), VALUE being anything JSON can carry; a thrown exception
// fails the test. The result is decoded into result (unless nil).
func (tb *Thunderbird) Run(t testing.TB, script string, result any, args ...any) {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	wrapped := `const resolve = arguments[arguments.length - 1];
(async () => {` + script + `})().catch(e => resolve({__error: String(e) + "\n" + (e && e.stack || "")}));`
	tb.conn.SetDeadline(time.Now().Add(90 * time.Second))
	raw, err := tb.command("WebDriver:ExecuteAsyncScript", map[string]any{
		"script": wrapped, "args": args, "newSandbox": true, "scriptTimeout": 60000,
	})
	if err != nil {
		t.Fatalf("script in Thunderbird: %v\n%s", err, tb.logTail())
	}
	var v struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("script result %s: %v", raw, err)
	}
	var failed struct {
		Error string `json:"__error"`
	}
	if json.Unmarshal(v.Value, &failed) == nil && failed.Error != "" {
		t.Fatalf("script in Thunderbird threw: %s", failed.Error)
	}
	if result != nil {
		if err := json.Unmarshal(v.Value, result); err != nil {
			t.Fatalf("script result %s: %v", v.Value, err)
		}
	}
}

// Quit makes Thunderbird save its prefs and exit as a user's quit does,
// and returns the prefs.js it wrote, parsed.
func (tb *Thunderbird) Quit(t testing.TB) map[string]any {
	t.Helper()
	tb.Run(t, `Services.prefs.savePrefFile(null); resolve(true);`, nil)
	tb.conn.SetDeadline(time.Now().Add(30 * time.Second))
	// The reply to quit may never come: the process is gone first.
	tb.command("Marionette:Quit", map[string]any{"flags": []string{"eForceQuit"}})
	select {
	case <-tb.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("Thunderbird did not exit within 60 s of Quit\n%s", tb.logTail())
	}
	data, err := os.ReadFile(filepath.Join(tb.Profile, "prefs.js"))
	if err != nil {
		t.Fatalf("Thunderbird wrote no prefs.js: %v", err)
	}
	prefs, err := ParsePrefs(data)
	if err != nil {
		t.Fatalf("Thunderbird's own prefs.js does not parse: %v\n%s", err, data)
	}
	return prefs
}

func (tb *Thunderbird) kill() {
	if tb.conn != nil {
		tb.conn.Close()
	}
	select {
	case <-tb.exited:
	default:
		killGroup(tb.cmd.Process)
		<-tb.exited
	}
	// The group may hold children that outlived their parent.
	killGroup(tb.cmd.Process)
}

func (tb *Thunderbird) logTail() string {
	b, _ := os.ReadFile(tb.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "Thunderbird's log ends:\n" + string(b)
}

func (tb *Thunderbird) command(name string, params any) (json.RawMessage, error) {
	tb.lastID++
	msg, err := json.Marshal([]any{0, tb.lastID, name, params})
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(tb.conn, "%d:%s", len(msg), msg); err != nil {
		return nil, err
	}
	for {
		body, err := tb.readFrame()
		if err != nil {
			return nil, err
		}
		var reply []json.RawMessage
		if err := json.Unmarshal(body, &reply); err != nil || len(reply) != 4 {
			return nil, fmt.Errorf("marionette: unexpected frame %.200s", body)
		}
		var id int
		json.Unmarshal(reply[1], &id)
		if id != tb.lastID {
			continue // an answer to a command that timed out before
		}
		if string(reply[2]) != "null" {
			return nil, fmt.Errorf("marionette %s: %s", name, reply[2])
		}
		return reply[3], nil
	}
}

func (tb *Thunderbird) readFrame() ([]byte, error) {
	head, err := tb.r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(head, ":")))
	if err != nil || n < 0 || n > 64<<20 {
		return nil, errors.New("marionette: bad frame length " + strconv.Quote(head))
	}
	body := make([]byte, n)
	_, err = io.ReadFull(tb.r, body)
	return body, err
}

// createFromISP is Thunderbird's own account creation from an isp/ file, in
// the Account Hub's order (views/email.mjs: the config found, then
// #fillAccountConfig's AccountConfig.replaceVariables, then
// CreateInBackend.createAccountInBackend): FetchConfig.fromDisk reads
// <CurProcD>/isp/DOMAIN.xml, so CurProcD points at the test's folder for
// the call and is restored after it.
const createFromISP = `
const [dir, domain, email, realname] = arguments;
const { FetchConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/FetchConfig.sys.mjs");
const { AccountConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/AccountConfig.sys.mjs");
const { CreateInBackend } = ChromeUtils.importESModule("resource:///modules/accountcreation/CreateInBackend.sys.mjs");
const original = Services.dirsvc.get("CurProcD", Ci.nsIFile);
const here = Cc["@mozilla.org/file/local;1"].createInstance(Ci.nsIFile);
here.initWithPath(dir);
Services.dirsvc.undefine("CurProcD");
Services.dirsvc.set("CurProcD", here);
let config;
try {
  config = await FetchConfig.fromDisk(domain, new AbortController().signal);
} finally {
  Services.dirsvc.undefine("CurProcD");
  Services.dirsvc.set("CurProcD", original);
}
AccountConfig.replaceVariables(config, realname, email, "");
const account = await CreateInBackend.createAccountInBackend(config);
resolve(account.key);
`

// readAccounts reads every account back through Thunderbird's own objects:
// what its Account Settings show and its protocol code uses.
const readAccounts = `
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const out = [];
for (const a of MailServices.accounts.accounts) {
  const s = a.incomingServer;
  if (s.type == "none") continue; // Local Folders
  const e = {
    key: a.key, serverKey: s.key, type: s.type, hostname: s.hostname, port: s.port,
    socketType: s.socketType, authMethod: s.authMethod, username: s.username, identities: [],
  };
  if (s.type == "pop3") {
    const p = s.QueryInterface(Ci.nsIPop3IncomingServer);
    e.leaveOnServer = p.leaveMessagesOnServer;
    e.deleteByAgeFromServer = p.deleteByAgeFromServer;
    e.numDaysToLeaveOnServer = p.numDaysToLeaveOnServer;
    e.downloadOnBiff = s.downloadOnBiff;
  }
  for (const id of a.identities) {
    const i = { key: id.key, fullName: id.fullName, email: id.email, smtpServerKey: id.smtpServerKey, valid: id.valid };
    const o = MailServices.outgoingServer.getServerByIdentity(id);
    if (o) {
      const smtp = o.QueryInterface(Ci.nsISmtpServer);
      i.outgoing = { key: o.key, hostname: smtp.hostname, port: smtp.port,
        socketType: o.socketType, authMethod: o.authMethod, username: o.username, description: o.description };
    }
    e.identities.push(i);
  }
  out.push(e);
}
resolve(out);
`

// Account is a mail account as Thunderbird's objects present it.
type Account struct {
	Key        string `json:"key"`
	ServerKey  string `json:"serverKey"`
	Type       string `json:"type"`
	Hostname   string `json:"hostname"`
	Port       int    `json:"port"`
	SocketType int    `json:"socketType"`
	AuthMethod int    `json:"authMethod"`
	Username   string `json:"username"`
	// POP3 only.
	LeaveOnServer          *bool `json:"leaveOnServer"`
	DeleteByAgeFromServer  *bool `json:"deleteByAgeFromServer"`
	NumDaysToLeaveOnServer int   `json:"numDaysToLeaveOnServer"`
	DownloadOnBiff         *bool `json:"downloadOnBiff"`
	Identities             []struct {
		Key           string `json:"key"`
		FullName      string `json:"fullName"`
		Email         string `json:"email"`
		SMTPServerKey string `json:"smtpServerKey"`
		Valid         bool   `json:"valid"`
		Outgoing      *struct {
			Key        string `json:"key"`
			Hostname   string `json:"hostname"`
			Port       int    `json:"port"`
			SocketType int    `json:"socketType"`
			AuthMethod int    `json:"authMethod"`
			Username   string `json:"username"`
			// Description is the name Account Settings shows for it.
			Description string `json:"description"`
		} `json:"outgoing"`
	} `json:"identities"`
}

// TryCreateFromISP is CreateFromISP that returns Thunderbird's refusal
// (e.g. of a domain its hostname sanitiser rejects) as an error.
func (tb *Thunderbird) TryCreateFromISP(t testing.TB, ispDir, domain, email, realname string) (string, error) {
	t.Helper()
	var key string
	err := tb.RunErr(t, createFromISP, &key, ispDir, domain, email, realname)
	return key, err
}

// CreateFromISP runs Thunderbird's own account creation for email from
// ispDir/isp/DOMAIN.xml, as its Account Hub does once it found that file,
// and returns the new account's key.
func (tb *Thunderbird) CreateFromISP(t testing.TB, ispDir, domain, email, realname string) string {
	t.Helper()
	var key string
	tb.Run(t, createFromISP, &key, ispDir, domain, email, realname)
	return key
}

// Accounts returns the mail accounts (not Local Folders) Thunderbird has.
func (tb *Thunderbird) Accounts(t testing.TB) []Account {
	t.Helper()
	var out []Account
	tb.Run(t, readAccounts, &out)
	return out
}

// AddressBook is an address book as Thunderbird's address book manager
// (MailServices.ab) presents it.
type AddressBook struct {
	// PrefID is its pref branch, such as ldap_2.servers.pab.
	PrefID string `json:"prefId"`
	Name   string `json:"name"`
	// Type is its nsIAbManager directory type (102 for CardDAV).
	Type     int    `json:"type"`
	FileName string `json:"fileName"`
	// CardDAVURL and CardDAVUsername are set for a CardDAV book.
	CardDAVURL      string `json:"carddavURL"`
	CardDAVUsername string `json:"carddavUsername"`
}

// Calendar is a calendar as Thunderbird's calendar manager presents it.
type Calendar struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	URI      string `json:"uri"`
	Name     string `json:"name"`
	Username string `json:"username"`
	Disabled bool   `json:"disabled"`
	// Cached is true when Thunderbird keeps an offline copy.
	Cached bool `json:"cached"`
}

// Collections are what Thunderbird holds besides mail.
type Collections struct {
	AddressBooks []AddressBook `json:"addressBooks"`
	Calendars    []Calendar    `json:"calendars"`
	// CardDAVType is Ci.nsIAbManager.CARDDAV_DIRECTORY_TYPE in this
	// Thunderbird.
	CardDAVType int `json:"carddavType"`
}

const readCollections = `
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const { cal } = ChromeUtils.importESModule("resource:///modules/calendar/calUtils.sys.mjs");
const addressBooks = MailServices.ab.directories.map(d => ({
  prefId: d.dirPrefId, name: d.dirName, type: d.dirType, fileName: d.fileName || "",
  carddavURL: d.getStringValue("carddav.url", ""), carddavUsername: d.getStringValue("carddav.username", ""),
}));
const calendars = cal.manager.getCalendars().map(c => ({
  id: c.id, type: c.type, uri: c.uri.spec, name: c.name, username: c.getProperty("username") || "",
  disabled: !!c.getProperty("disabled"), cached: !!c.getProperty("cache.enabled"),
}));
resolve({addressBooks, calendars, carddavType: Ci.nsIAbManager.CARDDAV_DIRECTORY_TYPE});
`

// Collections returns the address books and calendars Thunderbird loaded.
func (tb *Thunderbird) Collections(t testing.TB) Collections {
	t.Helper()
	var out Collections
	tb.Run(t, readCollections, &out)
	return out
}
