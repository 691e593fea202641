package server

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/profiles"
)

// androidPage is the page an Android user opens on another screen (or
// prints): the Thunderbird-for-Android QR code, and the settings to type into
// apps that import nothing. html/template escapes every value.
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
<p>Open the app, choose <b>Import settings</b>, then <b>Scan QR code</b>, and scan this code. The app asks for your password afterwards: the code holds none.</p>
<p><img alt="QR code for Thunderbird for Android" width="256" height="256" src="{{.QR}}"></p>
<h2>Other apps (Gmail, Samsung Email, Outlook)</h2>
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
func (s *Server) serveAndroid(w http.ResponseWriter, r *http.Request, st *state) outcome {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		setHeader(w, "Allow", valueGetHead)
		return outcome{status: plainText(w, http.StatusMethodNotAllowed, "use GET\n")}
	}
	acct, out, ok := accountFor(w, r, st)
	if !ok {
		return out
	}
	var png bytes.Buffer
	if err := profiles.AndroidQRPNG(&png, acct); err != nil {
		s.log.Error("writing an Android QR code", "domain", out.domain, "err", err)
		out.status = plainText(w, http.StatusInternalServerError, "the QR code could not be made\n")
		return out
	}
	row := func(role string, sv autoconfig.Server) androidServer {
		return androidServer{Role: role, Host: sv.Hostname, Port: sv.Port, Security: sv.Security.Description(), Username: sv.Username}
	}
	in := acct.In()
	data := struct {
		Address string
		QR      template.URL
		Servers []androidServer
	}{
		Address: acct.Address.String(),
		// A data: URL of our own PNG, base64: html/template would refuse it otherwise.
		QR:      template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png.Bytes())),
		Servers: []androidServer{row("Incoming ("+in.Protocol.DisplayName()+")", in), row("Outgoing (SMTP)", acct.Out())},
	}
	var body bytes.Buffer
	if err := androidPage.Execute(&body, data); err != nil {
		s.log.Error("writing the Android page", "domain", out.domain, "err", err)
		out.status = plainText(w, http.StatusInternalServerError, "the page could not be made\n")
		return out
	}
	setHeader(w, "Content-Type", valueHTML)
	setHeader(w, "Cache-Control", valueNoStore)
	setHeader(w, "Content-Security-Policy", valueCSP)
	setHeader(w, "Content-Length", []string{strconv.Itoa(body.Len())})
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body.Bytes())
	}
	out.status = http.StatusOK
	return out
}

// valueCSP lets the page show its inline QR image and nothing else.
var valueCSP = []string{"default-src 'none'; img-src data:"}
