package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"
	"howett.net/plist"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/profiles"
)

// The setup page in a real browser (issue 16): Debian's headless Chromium,
// driven through the DevTools protocol by chromedp, against serve on
// loopback. .ci/run installs chromium and sets MAILSETUP_CHROMIUM=1, so the
// test runs there and fails if the browser is missing; plain `go test`
// skips it.

// browserTab watches one tab: what the console and the browser log report,
// the responses by URL, and the downloads.
type browserTab struct {
	ctx context.Context

	mu        sync.Mutex
	problems  []string
	responses map[string]*network.EventResponseReceived // by URL path and query
	downloads map[string]string                         // GUID -> URL
	done      map[string]bool                           // GUIDs completed
}

func watchTab(t *testing.T, ctx context.Context) *browserTab {
	t.Helper()
	b := &browserTab{ctx: ctx, responses: map[string]*network.EventResponseReceived{}, downloads: map[string]string{}, done: map[string]bool{}}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning || strings.Contains(e.Entry.Text, "Content Security Policy") {
				b.problems = append(b.problems, fmt.Sprintf("log %s/%s: %s (%s)", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
			}
		case *network.EventResponseReceived:
			if u, err := url.Parse(e.Response.URL); err == nil {
				b.responses[u.RequestURI()] = e
			}
		case *browser.EventDownloadWillBegin:
			b.downloads[e.GUID] = e.URL
		case *browser.EventDownloadProgress:
			if e.State == browser.DownloadProgressStateCompleted {
				b.done[e.GUID] = true
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// do runs actions in the tab and fails the test on an error.
func (b *browserTab) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitFor polls cond (under the tab's lock) until it holds.
func (b *browserTab) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.mu.Lock()
		ok := cond()
		b.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// response is the response whose request URI starts with prefix.
func (b *browserTab) response(t *testing.T, prefix string) *network.EventResponseReceived {
	t.Helper()
	var found *network.EventResponseReceived
	b.waitFor(t, "the response to "+prefix, func() bool {
		for uri, r := range b.responses {
			if strings.HasPrefix(uri, prefix) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// download clicks the selector and returns the downloaded file's bytes and
// the Content-Type it was served with.
func (b *browserTab) download(t *testing.T, dir, selector, pathPrefix string) ([]byte, string) {
	t.Helper()
	b.do(t, "click "+selector, chromedp.Click(chromedp.CSS(selector)))
	var guid string
	b.waitFor(t, "the download of "+pathPrefix, func() bool {
		for g, u := range b.downloads {
			if strings.Contains(u, pathPrefix) && b.done[g] {
				guid = g
				return true
			}
		}
		return false
	})
	data, err := os.ReadFile(filepath.Join(dir, guid))
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	delete(b.downloads, guid)
	b.mu.Unlock()
	return data, b.response(t, pathPrefix).Response.MimeType
}

func (b *browserTab) checkNoProblems(t *testing.T, what string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Errorf("%s: %s", what, p)
	}
	b.problems = nil
}

// checkAccessibleNames: every control, link and image has a name a screen
// reader announces, as Chromium computes it.
func (b *browserTab) checkAccessibleNames(t *testing.T, page string) {
	t.Helper()
	tree, err := chromedp.Call(b.ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]int{}
	for _, n := range tree.Nodes {
		if n.Ignored || n.Role == nil {
			continue
		}
		var role, name string
		json.Unmarshal(n.Role.Value, &role)
		if n.Name != nil {
			json.Unmarshal(n.Name.Value, &name)
		}
		switch role {
		case "textbox", "button", "link", "image", "img", "combobox", "checkbox", "navigation", "table":
			if strings.TrimSpace(name) == "" {
				t.Errorf("%s: a %s has no accessible name", page, role)
			}
			named[role]++
		}
	}
	if named["link"] == 0 {
		t.Errorf("%s: no links found in the accessibility tree: %v", page, named)
	}
}

func TestBrowserSetupPage(t *testing.T) {
	if os.Getenv("MAILSETUP_CHROMIUM") == "" {
		t.Skip("the setup page's browser test needs Chromium: set MAILSETUP_CHROMIUM=1 (.ci/run installs chromium and does)")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("MAILSETUP_CHROMIUM is set but chromium is not installed: apt-get install chromium")
	}
	zbarimg, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Fatal("zbarimg decodes the QR code: apt-get install zbar-tools")
	}
	shots := os.Getenv("CI_LOG_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	srv, ts, _ := testServer(t)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // root in CI
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Nothing leaves loopback, whatever a page asked for.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()

	home := ts.URL + "/"
	submit := func(b *browserTab) {
		t.Helper()
		b.do(t, "submit the form",
			chromedp.Navigate(home),
			chromedp.WaitReady(chromedp.CSS("#emailaddress")),
			chromedp.SendKeys(chromedp.CSS("#emailaddress"), "alice@example.test"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitReady(chromedp.CSS("#panel-title")),
		)
		loc, err := chromedp.Run(b.ctx, chromedp.Location())
		if err != nil || !strings.Contains(loc, "emailaddress=alice%40example.test") {
			t.Fatalf("after submitting: at %q (%v)", loc, err)
		}
	}
	copyButtons := func(b *browserTab) int {
		t.Helper()
		b.do(t, "open the Other apps tab",
			chromedp.Click(chromedp.CSS(`nav.tabs a[href*="device=other"]`)),
			chromedp.WaitReady(chromedp.CSS(`a[aria-current="page"][href*="device=other"]`)),
			chromedp.WaitReady(chromedp.CSS("table")),
		)
		nodes, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSS("button.copy"), chromedp.AtLeast(0)))
		if err != nil {
			t.Fatal(err)
		}
		return len(nodes)
	}

	// JavaScript off: the form submits and the tabs work; no copy buttons.
	offCtx, cancelOff := chromedp.NewContext(ctx)
	defer cancelOff()
	off := watchTab(t, offCtx)
	if _, err := chromedp.Call(offCtx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	submit(off)
	if n := copyButtons(off); n != 0 {
		t.Errorf("%d copy buttons with JavaScript off: the script ran", n)
	}
	off.checkNoProblems(t, "JavaScript off")
	cancelOff()

	// JavaScript on: the same, and setup.js adds its copy buttons.
	on := watchTab(t, ctx)
	submit(on)
	on.checkAccessibleNames(t, "the page after submitting")
	// Eight values (two hosts, two usernames, the calendar and contacts
	// URLs and their usernames) get a button each, once the deferred
	// script has run; the page's own count, not the DOM mirror's.
	copyButtons(on)
	on.do(t, "wait for copy buttons", chromedp.WaitVisible(chromedp.CSS("button.copy")))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('button.copy').length")); err != nil || n != 8 {
		t.Errorf("%d copy buttons with JavaScript on, want 8 (%v)", n, err)
	}
	on.checkAccessibleNames(t, "the Other apps tab")

	// Each tab's download, as the browser gets it.
	dir := t.TempDir()
	if _, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTo(true),
	}); err != nil {
		t.Fatal(err)
	}
	openTab := func(device string) {
		t.Helper()
		on.do(t, "open the "+device+" tab",
			chromedp.Click(chromedp.CSS(`nav.tabs a[href*="device=`+device+`"]`)),
			chromedp.WaitReady(chromedp.CSS(`a[aria-current="page"][href*="device=`+device+`"]`)),
		)
		on.checkAccessibleNames(t, "the "+device+" tab")
	}
	for _, device := range []string{deviceIPhone, deviceMac} {
		openTab(device)
		data, ct := on.download(t, dir, "a.button", "/mail.mobileconfig?device="+device)
		var profile struct{ PayloadContent []map[string]any }
		if ct != "application/x-apple-aspen-config" {
			t.Errorf("%s: the profile came as %q", device, ct)
		}
		// examples/serve.yaml declares a calendar and contacts server too.
		if _, err := plist.Unmarshal(data, &profile); err != nil || len(profile.PayloadContent) != 3 ||
			profile.PayloadContent[0]["IncomingMailServerHostName"] != "imap.example.test" ||
			profile.PayloadContent[1]["PayloadType"] != "com.apple.caldav.account" || profile.PayloadContent[2]["PayloadType"] != "com.apple.carddav.account" {
			t.Errorf("%s: the profile does not parse as the account's (%v): %+v", device, err, profile)
		}
	}

	openTab(deviceWindows)
	data, ct := on.download(t, dir, "a.button", "/outlook.prf?device=windows")
	if ct != "application/octet-stream" {
		t.Errorf("the .prf came as %q", ct)
	}
	if ini := parseINI(t, string(data)); ini["Account1"]["IMAPServer"] != "imap.example.test" || ini["Account1"]["SMTPServer"] != "smtp.example.test" {
		t.Errorf("the .prf does not parse as the account's: %v", ini["Account1"])
	}

	openTab(deviceAndroid)
	on.do(t, "load the QR code", chromedp.WaitVisible(chromedp.CSS("img.qr")))
	qr := on.response(t, "/android.png?")
	if qr.Response.MimeType != "image/png" {
		t.Errorf("the QR code came as %q", qr.Response.MimeType)
	}
	body, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: qr.RequestID})
	if err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(dir, "qr.png")
	os.WriteFile(png, body.Body, 0o644)
	decoded, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sbinary", png).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	acct, err := profiles.NewAccount(want(t, srv, "example.test"), autoconfig.Address{LocalPart: "alice", Domain: "example.test", DomainUnicode: "example.test"}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := profiles.AndroidQRPayload(acct)
	if got := bytes.TrimSuffix(decoded, []byte("\n")); !bytes.Equal(got, payload) {
		t.Errorf("the QR code reads %s, want %s", got, payload)
	}

	openTab(deviceThunderbird)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("section.panel")))
	if err != nil || !strings.Contains(text, "Thunderbird fills in the rest") {
		t.Errorf("Thunderbird tab: %q (%v)", text, err)
	}

	openTab(deviceOther)
	on.do(t, "open the printable sheet", chromedp.Click(chromedp.CSS(`a[href^="/sheet?"]`)), chromedp.WaitReady(chromedp.CSS("h1")))
	if ct := on.response(t, "/sheet?").Response.MimeType; ct != "text/html" {
		t.Errorf("the sheet came as %q", ct)
	}
	sheet, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := html.Parse(strings.NewReader(sheet)); err != nil || !strings.Contains(sheet, "imap.example.test") {
		t.Errorf("the sheet does not parse or lacks the server (%v)", err)
	}

	// Screenshots for people to look at, and no sideways scrolling on a phone.
	for _, size := range []struct{ w, h int64 }{{360, 740}, {1280, 800}} {
		for _, shot := range []struct{ name, target string }{
			{"form", home},
			{"android", home + "?emailaddress=alice%40example.test&device=android"},
			{"other", home + "?emailaddress=alice%40example.test&device=other"},
			{"windows-de", home + "?emailaddress=alice%40example.test&device=windows&lang=de"},
		} {
			on.do(t, "load "+shot.name, chromedp.EmulateViewport(size.w, size.h), chromedp.Navigate(shot.target), chromedp.WaitVisible(chromedp.CSS("h1")))
			if shot.name != "form" {
				on.do(t, "wait for the script", chromedp.WaitVisible(chromedp.CSS("nav.tabs")))
			}
			width, err := chromedp.Run(ctx, chromedp.Evaluate[int64]("document.documentElement.scrollWidth"))
			if err != nil || width > size.w {
				t.Errorf("%s at %d px: the page is %d px wide (%v)", shot.name, size.w, width, err)
			}
			// Nor does anything stick out or scroll sideways inside it (the
			// settings table); the column headings, hidden on a phone, aside.
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main *")].filter(e => !e.closest("thead") &&
				(e.getBoundingClientRect().right > window.innerWidth + 0.5 ||
				 (["auto", "scroll"].includes(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth))).map(e => e.outerHTML.slice(0, 80))`))
			if err != nil || len(wide) > 0 {
				t.Errorf("%s at %d px: these stick out or scroll sideways (%v): %q", shot.name, size.w, err, wide)
			}
			img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(shots, fmt.Sprintf("setup-page-%s-%dx%d.png", shot.name, size.w, size.h))
			if err := os.WriteFile(name, img, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", name)
		}
	}
	on.checkNoProblems(t, "JavaScript on")
}

func ptrTo[T any](v T) *T { return &v }
