package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/profiles"
)

// The setup page (GET / on every host): a person types an address and gets,
// for the device their browser runs on (or the tab they pick), the file to
// import or the steps to take. Every page is rendered on the server from
// html/template and works without JavaScript; setup.js only adds copy
// buttons. Nothing is loaded from elsewhere, and the Content-Security-Policy
// says so. The downloads are the existing endpoints (/mail.mobileconfig,
// /android.png, /outlook.prf, /sheet), each calling its profiles writer, so
// there is one pipeline from settings to file.

//go:embed page/setup.html page/setup.css page/setup.js page/en.yaml page/de.yaml
var pageFiles embed.FS

var pageTemplates = template.Must(template.New("setup").Funcs(template.FuncMap{"fill": fill}).ParseFS(pageFiles, "page/setup.html"))

// fill replaces {name} in a catalogue text with its value (pairs of name,
// value); html/template escapes the result like any other value.
func fill(msg string, pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		msg = strings.ReplaceAll(msg, "{"+pairs[i]+"}", pairs[i+1])
	}
	return msg
}

// The devices the page has a tab for, in tab order.
const (
	deviceIPhone      = "iphone"
	deviceMac         = "mac"
	deviceAndroid     = "android"
	deviceWindows     = "windows"
	deviceThunderbird = "thunderbird"
	deviceOther       = "other"
)

var devices = [...]string{deviceIPhone, deviceMac, deviceAndroid, deviceWindows, deviceThunderbird, deviceOther}

// guessDevice picks the tab a browser's User-Agent most likely wants. An
// iPad with desktop-class Safari says "Macintosh": it gets the Mac tab, whose
// profile it installs the same way.
func guessDevice(ua string) string {
	switch {
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"), strings.Contains(ua, "iPod"):
		return deviceIPhone
	case strings.Contains(ua, "Android"):
		return deviceAndroid
	case strings.Contains(ua, "Macintosh"), strings.Contains(ua, "Mac OS X"):
		return deviceMac
	case strings.Contains(ua, "Windows"):
		return deviceWindows
	case strings.Contains(ua, "Linux"), strings.Contains(ua, "X11"), strings.Contains(ua, "BSD"):
		return deviceThunderbird
	}
	return deviceOther
}

// catalogue is one language's texts, by key (page/en.yaml lists them).
type catalogue map[string]string

// PageConfig is the checked page: section.
type PageConfig struct {
	Enabled    bool
	Hoster     string
	SupportURL string

	langs      []language.Tag // English first: the matcher's fallback
	catalogues []catalogue    // by index of langs
	matcher    language.Matcher
	css        []byte
	js         []byte
	logo       []byte
	logoType   []string
	version    string // changes with the assets, so browsers may cache them
	// byHeader remembers the language chosen for an Accept-Language value:
	// browsers send a few distinct ones, and parsing one costs more than
	// serving the cached page.
	byHeader *headerLanguages
}

// headerLanguages maps Accept-Language values to catalogue indexes, up to
// maxHeaderLanguages of them (then new values are parsed each time).
type headerLanguages struct {
	mu sync.RWMutex
	m  map[string]int
}

const maxHeaderLanguages = 1024

type filePage struct {
	Enabled    *bool  `yaml:"enabled"`
	Hoster     string `yaml:"hoster"`
	Logo       string `yaml:"logo"`
	SupportURL string `yaml:"support_url"`
	Colors     struct {
		Accent     string `yaml:"accent"`
		Background string `yaml:"background"`
		Text       string `yaml:"text"`
	} `yaml:"colors"`
	Catalogues string `yaml:"catalogues"`
}

var cssColor = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// maxLogoSize bounds the logo file, which every page view may fetch.
const maxLogoSize = 256 << 10

// compilePage checks the page: section; c.order must be filled (the
// hoster's name defaults to the first domain's provider name).
func (l *loader) compilePage(fp *filePage, c *Config) error {
	p := &c.Page
	p.Enabled = fp.Enabled == nil || *fp.Enabled
	p.Hoster = fp.Hoster
	if p.Hoster == "" && len(c.order) > 0 {
		p.Hoster = c.sites[c.order[0]].provider.DisplayName
	}
	if u := fp.SupportURL; u != "" {
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http" && parsed.Scheme != "mailto") {
			return l.errorf(at("page", "support_url"), "page.support_url %q must be an https://, http:// or mailto: URL", u)
		}
		p.SupportURL = u
	}
	colors := []struct{ key, value, def string }{
		{"accent", fp.Colors.Accent, "#0b57d0"},
		{"background", fp.Colors.Background, "#ffffff"},
		{"text", fp.Colors.Text, "#1f1f1f"},
	}
	var css bytes.Buffer
	css.WriteString(":root {")
	for _, col := range colors {
		v := col.value
		if v == "" {
			v = col.def
		}
		if !cssColor.MatchString(v) {
			return l.errorf(at("page", "colors", col.key), "page.colors.%s %q: write a colour as #RGB or #RRGGBB", col.key, v)
		}
		fmt.Fprintf(&css, " --%s: %s;", col.key, v)
	}
	css.WriteString(" }\n")
	base, _ := pageFiles.ReadFile("page/setup.css")
	css.Write(base)
	p.css = css.Bytes()
	p.js, _ = pageFiles.ReadFile("page/setup.js")

	if fp.Logo != "" {
		name := l.path(fp.Logo)
		types := map[string]string{".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
		ct, ok := types[strings.ToLower(filepath.Ext(name))]
		if !ok {
			return l.errorf(at("page", "logo"), "page.logo %q: use a .png, .svg, .jpg or .webp file", fp.Logo)
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return l.errorf(at("page", "logo"), "page.logo: %v", err)
		}
		if len(data) > maxLogoSize {
			return l.errorf(at("page", "logo"), "page.logo %s is larger than 256 KiB", name)
		}
		p.logo, p.logoType = data, []string{ct}
	}

	if err := l.loadCatalogues(p, fp.Catalogues); err != nil {
		return err
	}
	sum := sha256.New()
	sum.Write(p.css)
	sum.Write(p.js)
	sum.Write(p.logo)
	p.version = hex.EncodeToString(sum.Sum(nil))[:12]
	return nil
}

// loadCatalogues reads English and German, then the hoster's own files
// (page.catalogues: a folder of TAG.yaml files), which add languages or
// replace ours. Every file must have exactly English's keys.
func (l *loader) loadCatalogues(p *PageConfig, dir string) error {
	type file struct {
		name string
		data []byte
	}
	var files []file
	for _, n := range []string{"en.yaml", "de.yaml"} {
		data, _ := pageFiles.ReadFile("page/" + n)
		files = append(files, file{"page/" + n, data})
	}
	if dir != "" {
		full := l.path(dir)
		names, err := filepath.Glob(filepath.Join(full, "*.yaml"))
		if err != nil || names == nil {
			return l.errorf(at("page", "catalogues"), "page.catalogues %s holds no TAG.yaml files (e.g. fr.yaml, copied from en.yaml)", full)
		}
		for _, n := range names {
			data, err := readLimited(n)
			if err != nil {
				return l.errorf(at("page", "catalogues"), "page.catalogues: %v", err)
			}
			files = append(files, file{n, data})
		}
	}
	var english catalogue
	for _, f := range files {
		tag, err := language.Parse(strings.TrimSuffix(filepath.Base(f.name), ".yaml"))
		if err != nil {
			return l.errorf(at("page", "catalogues"), "catalogue %s: name it by its language tag, e.g. fr.yaml", f.name)
		}
		var cat catalogue
		if err := yaml.Unmarshal(f.data, &cat); err != nil {
			return l.errorf(at("page", "catalogues"), "catalogue %s: %v", f.name, err)
		}
		if english == nil {
			english = cat
		}
		for k := range english {
			if _, ok := cat[k]; !ok {
				return l.errorf(at("page", "catalogues"), "catalogue %s lacks %q: copy it from page/en.yaml and translate it", f.name, k)
			}
		}
		for k := range cat {
			if _, ok := english[k]; !ok {
				return l.errorf(at("page", "catalogues"), "catalogue %s: unknown key %q", f.name, k)
			}
		}
		if i := slices.Index(p.langs, tag); i >= 0 {
			p.catalogues[i] = cat
			continue
		}
		p.langs = append(p.langs, tag)
		p.catalogues = append(p.catalogues, cat)
	}
	p.matcher = language.NewMatcher(p.langs)
	p.byHeader = &headerLanguages{m: map[string]int{}}
	return nil
}

func readLimited(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if err == nil && len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s is larger than 1 MiB", name)
	}
	return data, err
}

// language picks the page's language: ?lang= when it names one we have
// (explicit, so links keep it), else the best match for Accept-Language.
func (p *PageConfig) language(r *http.Request) (idx int, explicit bool) {
	if q := queryValue(r.URL.RawQuery, "lang"); q != "" {
		if t, err := language.Parse(q); err == nil {
			for i, have := range p.langs {
				if have == t {
					return i, true
				}
			}
			base, _ := t.Base()
			for i, have := range p.langs {
				if b, _ := have.Base(); b == base {
					return i, true
				}
			}
		}
	}
	h := r.Header.Get("Accept-Language")
	if h == "" || len(h) > 512 {
		return 0, false
	}
	p.byHeader.mu.RLock()
	i, ok := p.byHeader.m[h]
	p.byHeader.mu.RUnlock()
	if ok {
		return i, false
	}
	if tags, _, err := language.ParseAcceptLanguage(h); err == nil && len(tags) > 0 {
		_, i, _ = p.matcher.Match(tags...)
	}
	p.byHeader.mu.Lock()
	if len(p.byHeader.m) < maxHeaderLanguages {
		p.byHeader.m[h] = i
	}
	p.byHeader.mu.Unlock()
	return i, false
}

// pageData is what the templates read.
type pageData struct {
	Lang, Title, Version, Hoster, SupportURL string
	HasLogo, LangParam, Error                bool
	T                                        catalogue
	Langs                                    []pageLink
	FormHref                                 string

	Address, Device, DeviceName string
	Tabs                        []pageLink
	Download, QRSrc, Command    string
	QR, POP3Only                bool
	Servers                     []pageServer
	// DAV lists the calendar and contacts URLs, when configured;
	// DAVx5URL is the base URL the Android tab tells DAVx⁵ users to type,
	// DAVx5Second the other one when the two services differ.
	DAV                   []pageDAV
	DAVx5URL, DAVx5Second string
	DAVx5Username         string
}

type pageDAV struct {
	Role, URL, Username string
}

type pageLink struct {
	Tag, Name, Href string
	Current         bool
}

type pageServer struct {
	Role, Host, Security, Username string
	Port                           int
}

// pageURL is a link to the page (or a download) keeping the query's
// address, device and explicit language.
func pageURL(path string, pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			v.Set(pairs[i], pairs[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// pageBase fills what every page shows; address and device go into the
// language links.
func (p *PageConfig) pageBase(li int, explicit bool, address, device string) pageData {
	d := pageData{
		Lang: p.langs[li].String(), Version: p.version, Hoster: p.Hoster, SupportURL: p.SupportURL,
		HasLogo: p.logo != nil, LangParam: explicit, T: p.catalogues[li],
	}
	lang := ""
	if explicit {
		lang = d.Lang
	}
	d.FormHref = pageURL("/", "lang", lang)
	for i, t := range p.langs {
		d.Langs = append(d.Langs, pageLink{Tag: t.String(), Name: p.catalogues[i]["language_name"], Current: i == li,
			Href: pageURL("/", "emailaddress", address, "device", device, "lang", t.String())})
	}
	return d
}

// Header values of the page and its assets.
var (
	// valuePageCSP: the page's own style, script and images, a form that
	// submits to itself, and nothing else.
	valuePageCSP  = []string{"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"}
	valueSheetCSP = []string{"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"}
	// An SVG logo opened on its own must not run scripts in our origin.
	valueLogoCSP     = []string{"default-src 'none'; style-src 'unsafe-inline'; sandbox"}
	valueNoReferrer  = []string{"no-referrer"}
	valuePageVary    = []string{"Accept-Language, User-Agent"}
	valueCSS         = []string{"text/css; charset=utf-8"}
	valueJS          = []string{"text/javascript; charset=utf-8"}
	valueCacheAsset  = []string{"public, max-age=86400"}
	valuePRF         = []string{"application/octet-stream"}
	valuePRFFileName = []string{`attachment; filename="outlook.prf"`}
)

// servePage answers GET / : the form, or the page for ?emailaddress=.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, st *state) outcome {
	p := &st.cfg.Page
	if !p.Enabled {
		return outcome{status: plainText(w, http.StatusNotFound, "not found\n")}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		setHeader(w, "Allow", valueGetHead)
		return outcome{status: plainText(w, http.StatusMethodNotAllowed, "use GET\n")}
	}
	li, explicit := p.language(r)
	variant := p.langs[li].String()
	if explicit {
		variant += "!"
	}
	setHeader(w, "Referrer-Policy", valueNoReferrer)
	setHeader(w, "Vary", valuePageVary)
	email := queryValue(r.URL.RawQuery, "emailaddress")
	var out outcome
	if email == "" {
		return s.renderPage(w, r, st, out, http.StatusOK, renderKey{kind: renderPageForm, variant: variant}, func() ([]byte, error) {
			d := p.pageBase(li, explicit, "", "")
			d.Title = d.T["form_title"] + " – " + p.Hoster
			return executePage("form", d)
		})
	}
	out.addr = email
	addr, err := st.cfg.parseAddress(email)
	if err != nil {
		// The form again, without the input: nothing unchecked is echoed.
		return s.renderPage(w, r, st, out, http.StatusBadRequest, renderKey{kind: renderPageBadAddress, variant: variant}, func() ([]byte, error) {
			d := p.pageBase(li, explicit, "", "")
			d.Title = d.T["form_title"] + " – " + p.Hoster
			d.Error = true
			return executePage("form", d)
		})
	}
	out.domain = addr.Domain
	site, known := st.cfg.sites[addr.Domain]
	if !known {
		// Never another domain's settings here, whatever unknown_domains says.
		return s.renderPage(w, r, st, out, http.StatusNotFound, renderKey{kind: renderPageUnknown, variant: variant, addr: addr.String()}, func() ([]byte, error) {
			d := p.pageBase(li, explicit, "", "")
			d.Address = addr.String()
			d.Title = d.T["unknown_title"] + " – " + p.Hoster
			return executePage("unknown", d)
		})
	}
	device := queryValue(r.URL.RawQuery, "device")
	if !slices.Contains(devices[:], device) {
		device = guessDevice(r.UserAgent())
	}
	s.metrics.pageViews[slices.Index(devices[:], device)].Add(1)
	return s.renderPage(w, r, st, out, http.StatusOK, renderKey{kind: renderPageAddress, variant: variant + "|" + device, addr: addr.String()}, func() ([]byte, error) {
		acct, err := profiles.NewAccount(site.provider, addr, "", "")
		if err != nil {
			return nil, err
		}
		return executePage("address", p.addressPage(li, explicit, acct, device))
	})
}

func executePage(name string, d pageData) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&b, name, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// renderPage answers with a cached page and the page's headers.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, st *state, out outcome, status int, key renderKey, render func() ([]byte, error)) outcome {
	body, err := st.renders.get(r.Context(), key, render)
	if err != nil {
		return s.renderFailed(w, r, st, out, "the setup page", err)
	}
	setHeader(w, "Content-Security-Policy", valuePageCSP)
	setHeader(w, "Content-Type", valueHTML)
	setHeader(w, "Cache-Control", valueNoStore)
	setHeader(w, "Content-Length", []string{strconv.Itoa(len(body))})
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	out.status = status
	return out
}

// addressPage is the page for one account and device.
func (p *PageConfig) addressPage(li int, explicit bool, acct profiles.Account, device string) pageData {
	address := acct.Address.String()
	d := p.pageBase(li, explicit, address, device)
	lang := ""
	if explicit {
		lang = d.Lang
	}
	d.Address, d.Device = address, device
	d.Title = fill(d.T["address_title"], "address", address) + " – " + p.Hoster
	d.DeviceName = d.T["tab_"+device]
	for _, dev := range devices {
		d.Tabs = append(d.Tabs, pageLink{Name: d.T["tab_"+dev], Current: dev == device,
			Href: pageURL("/", "emailaddress", address, "device", dev, "lang", lang)})
	}
	switch device {
	case deviceIPhone, deviceMac:
		d.Download = pageURL(pathMobileconfig, "emailaddress", address, "device", device)
	case deviceWindows:
		d.Download = pageURL(pathOutlookPRF, "emailaddress", address, "device", device)
		d.Command = `outlook.exe /importprf "%USERPROFILE%\Downloads\outlook.prf"`
	case deviceOther:
		d.Download = pageURL(pathSheet, "emailaddress", address, "device", device)
	case deviceAndroid:
		_, qrErr := profiles.AndroidQRPayload(acct)
		d.QR = qrErr == nil
		d.QRSrc = pageURL(pathAndroidQR, "emailaddress", address)
	}
	in, outgoing := acct.In(), acct.Out()
	d.Servers = []pageServer{
		{Role: fill(d.T["row_incoming"], "protocol", in.Protocol.DisplayName()), Host: in.Hostname, Port: in.Port, Security: in.Security.Description(), Username: in.Username},
		{Role: d.T["row_outgoing"], Host: outgoing.Hostname, Port: outgoing.Port, Security: outgoing.Security.Description(), Username: outgoing.Username},
	}
	_, hasIMAP := acct.Provider.FirstIncoming(autoconfig.IMAP)
	d.POP3Only = !hasIMAP
	for _, kind := range []autoconfig.DAVKind{autoconfig.CalDAV, autoconfig.CardDAV} {
		svc, ok := acct.Provider.FirstDAV(kind)
		if !ok {
			continue
		}
		username := autoconfig.ExpandTemplate(svc.Username, acct.Address)
		if username == "" {
			username = in.Username
		}
		d.DAV = append(d.DAV, pageDAV{Role: d.T["row_"+string(kind)], URL: svc.URL, Username: username})
	}
	// DAVx⁵ discovers calendars and address books from one base URL; a
	// second URL needs a second account only where the services differ.
	if len(d.DAV) > 0 {
		d.DAVx5URL, d.DAVx5Username = d.DAV[0].URL, d.DAV[0].Username
		if len(d.DAV) > 1 && d.DAV[1].URL != d.DAVx5URL {
			d.DAVx5Second = d.DAV[1].URL
		}
	}
	return d
}

// serveAsset answers the page's stylesheet, script and logo: fixed bytes
// per configuration, named with a version so browsers cache them.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request, st *state) outcome {
	p := &st.cfg.Page
	if !p.Enabled || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return outcome{status: plainText(w, http.StatusNotFound, "not found\n")}
	}
	var body []byte
	var ct []string
	switch strings.ToLower(r.URL.Path) {
	case pathPageCSS:
		body, ct = p.css, valueCSS
	case pathPageJS:
		body, ct = p.js, valueJS
	case pathFavicon:
		// Browsers ask for it on every host; a 404 would be a console error.
		if p.logo == nil {
			setHeader(w, "Cache-Control", valueCacheAsset)
			w.WriteHeader(http.StatusNoContent)
			return outcome{status: http.StatusNoContent}
		}
		body, ct = p.logo, p.logoType
		setHeader(w, "Content-Security-Policy", valueLogoCSP)
	case pathLogo:
		if p.logo == nil {
			return outcome{status: plainText(w, http.StatusNotFound, "not found\n")}
		}
		body, ct = p.logo, p.logoType
		setHeader(w, "Content-Security-Policy", valueLogoCSP)
	}
	setHeader(w, "Content-Type", ct)
	setHeader(w, "Cache-Control", valueCacheAsset)
	setHeader(w, "Content-Length", []string{strconv.Itoa(len(body))})
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return outcome{status: http.StatusOK}
}

// serveOutlookPRF answers GET /outlook.prf?emailaddress=A with the profile
// classic Outlook imports (outlook.exe /importprf), from profiles.OutlookPRF.
func (s *Server) serveOutlookPRF(w http.ResponseWriter, r *http.Request, st *state) outcome {
	return s.serveDownload(w, r, st, download{kind: renderOutlookPRF, what: "an Outlook profile",
		write: profiles.OutlookPRF, contentType: valuePRF, disposition: fixedDisposition(valuePRFFileName)})
}

// serveSheet answers GET /sheet?emailaddress=A with the printable settings
// sheet, from profiles.SheetHTML.
func (s *Server) serveSheet(w http.ResponseWriter, r *http.Request, st *state) outcome {
	return s.serveDownload(w, r, st, download{kind: renderSheet, what: "a settings sheet",
		write: profiles.SheetHTML, contentType: valueHTML, csp: valueSheetCSP})
}

// download is one answer rendered per address by a profiles writer.
type download struct {
	kind renderKind
	// what names the answer in logs: "an Apple profile".
	what  string
	write func(io.Writer, profiles.Account) error
	// contentType and csp (a page's Content-Security-Policy, or nil) are
	// the answer's headers; disposition, when set, its Content-Disposition.
	contentType, csp []string
	disposition      func(profiles.Account) []string
	// unsupported, when set, is the 404 text for an address the writer
	// cannot take (profiles.ErrUnsupported).
	unsupported string
}

// fixedDisposition is a Content-Disposition that does not depend on the
// account.
func fixedDisposition(v []string) func(profiles.Account) []string {
	return func(profiles.Account) []string { return v }
}

// serveDownload answers d for the address of the request, rendered once per
// address and cached (st.renders).
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request, st *state, d download) outcome {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		setHeader(w, "Allow", valueGetHead)
		return outcome{status: plainText(w, http.StatusMethodNotAllowed, "use GET\n")}
	}
	acct, out, ok := accountFor(w, r, st)
	if !ok {
		return out
	}
	body, err := st.renders.get(r.Context(), renderKey{kind: d.kind, addr: acct.Address.String()}, func() ([]byte, error) {
		var b bytes.Buffer
		err := d.write(&b, acct)
		return b.Bytes(), err
	})
	if d.unsupported != "" && errors.Is(err, profiles.ErrUnsupported) {
		out.status = plainText(w, http.StatusNotFound, d.unsupported)
		return out
	}
	if err != nil {
		return s.renderFailed(w, r, st, out, d.what, err)
	}
	if d.disposition != nil {
		setHeader(w, "Content-Disposition", d.disposition(acct))
	}
	writeRendered(w, r, d.contentType, body, d.csp)
	out.status = http.StatusOK
	return out
}
