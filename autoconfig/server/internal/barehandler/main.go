// Command barehandler is the yardstick of scripts/bench-serve.sh: a bare
// net/http server that answers every GET with one file's bytes and every POST
// with another's, doing nothing else. mailsetup serve is measured against it
// in the same run (issue 7: at least 0.7x its throughput).
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen `ADDR`")
	get := flag.String("get", "", "`FILE` answered to GET (application/xml)")
	post := flag.String("post", "", "`FILE` answered to POST (text/xml)")
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
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		_, _ = w.Write(getBody)
	})))
}
