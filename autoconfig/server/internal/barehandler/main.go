// Command barehandler is the yardstick of scripts/bench-serve.sh: a bare
// net/http server that answers every GET with one file's bytes and every POST
// with another's, doing nothing else. mailsetup serve is measured against it
// in the same run (issue 7: at least 0.7x its throughput; issue 15: 0.3x for
// the answers rendered per address; issue 16: 0.5x for the setup page).
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
)

type answer struct {
	contentType string
	body        []byte
}

// answers is the -answer flag: TARGET,TYPE,FILE, repeated; TARGET is a
// path with its query, as wrk sends it.
type answers map[string]answer

func (a answers) String() string { return "" }

func (a answers) Set(v string) error {
	parts := strings.SplitN(v, ",", 3)
	if len(parts) != 3 {
		return flag.ErrHelp
	}
	body, err := os.ReadFile(parts[2])
	if err != nil {
		return err
	}
	a[parts[0]] = answer{contentType: parts[1], body: body}
	return nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen `ADDR`")
	get := flag.String("get", "", "`FILE` answered to GET (application/xml)")
	post := flag.String("post", "", "`FILE` answered to POST (text/xml)")
	byPath := answers{}
	flag.Var(byPath, "answer", "`TARGET,TYPE,FILE`: answer GET TARGET (path and query) with FILE as TYPE instead (repeatable)")
	flag.Parse()
	getBody, err := os.ReadFile(*get)
	if err != nil {
		log.Fatal(err)
	}
	postBody, err := os.ReadFile(*post)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			_, _ = w.Write(postBody)
			return
		}
		if a, ok := byPath[r.URL.RequestURI()]; ok {
			w.Header().Set("Content-Type", a.contentType)
			_, _ = w.Write(a.body)
			return
		}
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		_, _ = w.Write(getBody)
	})))
}
