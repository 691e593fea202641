// Package testnet holds the test doubles the packages' tests share: one test
// certificate authority (CA) and one scripted dialer that satisfies
// probe/netx's Dialer. DNS fakes are netx.MockResolver; whole simulated
// worlds are internal/sandbox, started for a test by internal/sandbox/sandboxtest.
//
// It imports only the standard library, so that every package's tests,
// netx's own included, can use it without an import cycle.
package testnet
