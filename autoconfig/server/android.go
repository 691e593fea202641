package server

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/profiles"
)

// androidPage is the page an Android user opens on another screen (or
// prints): the Thunderbird-for-Android QR code, and the settings to type into
// apps that import nothing. html/template escapes every value. The QR code is
// a separate, cached image (/android.png), so the page costs a template run
// and the image is rendered once per address, not per view.
var androidPage = template.Must(template.New("android").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Set up {{.Address}} on Android</title>
</head>
<body>
<h1>Set up {{.Address}} on Android</h1>
<h2>Thunderbird for Android (and K-9 Mail)</h2>
{{if .QR}}<p>Open the app, choose <b>Import settings</b>, then <b>Scan QR code</b>, and scan this code. The app asks for your password afterwards: the code holds none.</p>
<p><img alt="QR code for Thunderbird for Android" width="256" height="256" src="/android.png?emailaddress={{.Address}}"></p>
{{else}}<p>This address cannot be put into the app's QR code (it takes plain ASCII addresses only). Add the account by hand and type the settings below.</p>
{{end}}<h2>Other apps (Gmail, Samsung Email, Outlook)</h2>
<p>Add the account as <b>Other</b>, choose <b>Manual setup</b>, and type these settings.</p>
<table>
<tr><th></th><th>Server</th><th>Port</th><th>Security</th><th>Username</th></tr>
{{range .Servers}}<tr><th>{{.Role}}</th><td>{{.Host}}</td><td>{{.Port}}</td><td>{{.Security}}</td><td>{{.Username}}</td></tr>
{{end}}</table>
</body>
</html>
`))

type androidServer struct {
	Role, Host, Security, Username string
	Port                           int
}

// serveAndroid answers GET /android?emailaddress=ADDR with the setup page.
// An address the QR format cannot carry (not ASCII, or an authentication
// the format has no value for) gets the page without the code: the settings
// to type are the answer, not an error.
func (s *Server) serveAndroid(w http.ResponseWriter, r *http.Request, st *state) outcome {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		setHeader(w, "Allow", valueGetHead)
		return outcome{status: plainText(w, http.StatusMethodNotAllowed, "use GET\n")}
	}
	acct, out, ok := accountFor(w, r, st)
	if !ok {
		return out
	}
	body, err := st.renders.get(r.Context(), renderKey{kind: renderAndroidPage, addr: acct.Address.String()}, func() ([]byte, error) {
		return androidPageFor(acct)
	})
	if err != nil {
		return s.renderFailed(w, r, st, out, "the Android page", err)
	}
	writeRendered(w, r, valueHTML, body, valueCSP)
	out.status = http.StatusOK
	return out
}

func androidPageFor(acct profiles.Account) ([]byte, error) {
	_, qrErr := profiles.AndroidQRPayload(acct)
	if qrErr != nil && !errors.Is(qrErr, profiles.ErrUnsupported) {
		return nil, qrErr
	}
	row := func(role string, sv autoconfig.Server) androidServer {
		return androidServer{Role: role, Host: sv.Hostname, Port: sv.Port, Security: sv.Security.Description(), Username: sv.Username}
	}
	in := acct.In()
	data := struct {
		Address string
		QR      bool
		Servers []androidServer
	}{
		Address: acct.Address.String(),
		QR:      qrErr == nil,
		Servers: []androidServer{row("Incoming ("+in.Protocol.DisplayName()+")", in), row("Outgoing (SMTP)", acct.Out())},
	}
	var body bytes.Buffer
	if err := androidPage.Execute(&body, data); err != nil {
		return nil, err
	}
	return body.Bytes(), nil
}

// serveAndroidQR answers GET /android.png?emailaddress=ADDR with the
// Thunderbird-for-Android QR code, rendered once per address and cached.
func (s *Server) serveAndroidQR(w http.ResponseWriter, r *http.Request, st *state) outcome {
	return s.serveDownload(w, r, st, download{kind: renderAndroidQR, what: "an Android QR code",
		write: profiles.AndroidQRPNG, contentType: valuePNG,
		unsupported: "this address cannot be put into a QR code: type the settings from /android\n"})
}

// valueCSP lets the page show its QR image (served from here) and nothing else.
var valueCSP = []string{"default-src 'none'; img-src 'self'"}
