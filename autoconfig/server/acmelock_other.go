//go:build !unix

package server

import "golang.org/x/crypto/acme/autocert"

// acmeCache is the plain directory cache where flock(2) does not exist:
// replicas starting together may each order a certificate.
func acmeCache(dir string) autocert.Cache { return autocert.DirCache(dir) }
