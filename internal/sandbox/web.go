package sandbox

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// Paths the web services answer.
const (
	autoconfigPath   = "/mail/config-v1.1.xml"
	wellKnownPath    = "/.well-known/autoconfig/mail/config-v1.1.xml"
	autodiscoverPath = "/autodiscover/autodiscover.xml" // matched in any case
	ispdbPrefix      = "/v1.1/"
	// maxRequestBody bounds an Autodiscover POST; real requests are ~400 bytes.
	maxRequestBody = 64 << 10
)

// webServer is one net/http server for every web service of the world: the
// endpoint a connection was made to decides which site answers.
type webServer struct {
	w     *World
	srv   *http.Server
	queue *connQueue
}

type endpointKey struct{}

func newWebServer(w *World) *webServer {
	ws := &webServer{w: w, queue: newConnQueue(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})}
	ws.srv = &http.Server{
		Handler:           http.HandlerFunc(ws.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*tls.Conn); ok {
				c = tc.NetConn()
			}
			if sc, ok := c.(*serverConn); ok {
				ctx = context.WithValue(ctx, endpointKey{}, sc.ep)
			}
			return ctx
		},
	}
	w.onClose(ws.srv)
	w.onClose(ws.queue)
	w.goServe(func() { ws.srv.Serve(ws.queue) })
	return ws
}

func (ws *webServer) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	ep, _ := r.Context().Value(endpointKey{}).(*endpoint)
	if ep == nil || ep.svc.Web == nil {
		http.NotFound(rw, r)
		return
	}
	site := ep.svc.Web
	if ws.serveDAV(rw, r, ep, site) {
		return
	}
	path := r.URL.Path
	switch {
	case strings.EqualFold(path, autodiscoverPath) && site.AutodiscoverRedirect != "":
		// The HTTP-redirect method: a plain GET that points at the real
		// (https) endpoint, which the client then POSTs to.
		http.Redirect(rw, r, site.AutodiscoverRedirect, http.StatusFound)
	case strings.EqualFold(path, autodiscoverPath) && site.Autodiscover != nil:
		ws.autodiscover(rw, r, site.Autodiscover)
	case path == autoconfigPath && site.Autoconfig != nil && r.Method == http.MethodGet:
		writeConfig(rw, site.Autoconfig)
	case path == wellKnownPath && site.WellKnown != nil && r.Method == http.MethodGet:
		writeConfig(rw, site.WellKnown)
	case site.ISPDB && strings.HasPrefix(path, ispdbPrefix) && r.Method == http.MethodGet:
		p, ok := ws.w.ispdb[strings.ToLower(strings.TrimPrefix(path, ispdbPrefix))]
		if !ok {
			http.NotFound(rw, r)
			return
		}
		writeConfig(rw, p)
	default:
		http.NotFound(rw, r)
	}
}

func writeConfig(rw http.ResponseWriter, p *autoconfig.Provider) {
	rw.Header().Set("Content-Type", "application/xml; charset=utf-8")
	if err := autoconfig.WriteConfig(rw, p); err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
	}
}

// autodiscover answers a POX request (MS-OXDSCLI). Exchange answers
// anything but a POST with error 600, and so does this.
func (ws *webServer) autodiscover(rw http.ResponseWriter, r *http.Request, a *AutodiscoverAnswer) {
	rw.Header().Set("Content-Type", "text/xml; charset=utf-8")
	if r.Method != http.MethodPost {
		autoconfig.NewAutodiscoverError(autoconfig.AutodiscoverErrInvalidRequest, "Invalid Request").WriteTo(rw)
		return
	}
	req, err := autoconfig.ReadAutodiscoverRequest(http.MaxBytesReader(rw, r.Body, maxRequestBody))
	if err != nil {
		autoconfig.NewAutodiscoverError(autoconfig.AutodiscoverErrInvalidRequest, "Invalid Request").WriteTo(rw)
		return
	}
	var resp *autoconfig.AutodiscoverResponse
	switch {
	case a.RedirectAddr != "":
		resp = autoconfig.NewAutodiscoverRedirectAddr(a.RedirectAddr)
	case a.RedirectURL != "":
		resp = autoconfig.NewAutodiscoverRedirectURL(a.RedirectURL)
	default:
		addr, err := autoconfig.ParseAddress(req.EMailAddress)
		if err != nil || a.Settings == nil {
			resp = autoconfig.NewAutodiscoverError(autoconfig.AutodiscoverErrNoAddress, "The e-mail address cannot be found.")
		} else {
			resp = autoconfig.NewAutodiscoverResponse(a.Settings, addr)
		}
	}
	resp.WriteTo(rw)
}
