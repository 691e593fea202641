package server

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// latencyBuckets are the histogram's upper bounds in seconds: a precomputed
// answer takes tens of microseconds, a slow client's write seconds.
var latencyBuckets = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}

// metrics counts requests by endpoint and status and times them, lock-free.
// writeTo prints them in the Prometheus text exposition format (0.0.4).
type metrics struct {
	requests [numEndpoints][600]atomic.Uint64 // by HTTP status code
	buckets  [numEndpoints][len(latencyBuckets)]atomic.Uint64
	count    [numEndpoints]atomic.Uint64
	sumNanos [numEndpoints]atomic.Uint64
	limited  atomic.Uint64
	rendered atomic.Uint64
	// The setup page: views by device, and downloads its links started
	// (?device=) by device and endpoint.
	pageViews [len(devices)]atomic.Uint64
	downloads [len(devices)][numEndpoints]atomic.Uint64
	// Connections (connLimiter): open now, and closed at once because a
	// cap was full.
	openConns        atomic.Int64
	refusedTotal     atomic.Uint64
	refusedPerClient atomic.Uint64
	reloads          struct{ ok, failed atomic.Uint64 }
}

func newMetrics() *metrics { return &metrics{} }

func (m *metrics) observe(ep endpoint, status int, d time.Duration) {
	if status >= 100 && status < 600 {
		m.requests[ep][status].Add(1)
	}
	sec := d.Seconds()
	for i, le := range latencyBuckets {
		if sec <= le {
			m.buckets[ep][i].Add(1)
			break
		}
	}
	m.count[ep].Add(1)
	m.sumNanos[ep].Add(uint64(d.Nanoseconds()))
}

// isDownload reports whether the setup page links to ep as a file.
func isDownload(ep endpoint) bool {
	return ep == epMobileconfig || ep == epOutlookPRF || ep == epSheet || ep == epAndroidQR
}

// countDownload counts a download the setup page started (it names the
// device in the link); other requests for the same files are not counted.
func (m *metrics) countDownload(ep endpoint, device string) {
	if i := slices.Index(devices[:], device); i >= 0 {
		m.downloads[i][ep].Add(1)
	}
}

func (m *metrics) writeTo(w io.Writer) {
	b := bufio.NewWriter(w)
	defer b.Flush()
	b.WriteString("# HELP mailsetup_serve_requests_total Requests answered, by endpoint and HTTP status code.\n")
	b.WriteString("# TYPE mailsetup_serve_requests_total counter\n")
	for ep := range numEndpoints {
		for code := range m.requests[ep] {
			if n := m.requests[ep][code].Load(); n > 0 {
				b.WriteString(`mailsetup_serve_requests_total{endpoint="` + endpointNames[ep] + `",code="` + strconv.Itoa(code) + `"} `)
				b.WriteString(strconv.FormatUint(n, 10) + "\n")
			}
		}
	}
	b.WriteString("# HELP mailsetup_serve_request_duration_seconds Time from reading the request to writing the answer.\n")
	b.WriteString("# TYPE mailsetup_serve_request_duration_seconds histogram\n")
	for ep := range numEndpoints {
		count := m.count[ep].Load()
		if count == 0 {
			continue
		}
		label := `{endpoint="` + endpointNames[ep] + `",le="`
		var cumulative uint64
		for i, le := range latencyBuckets {
			cumulative += m.buckets[ep][i].Load()
			b.WriteString("mailsetup_serve_request_duration_seconds_bucket" + label + strconv.FormatFloat(le, 'g', -1, 64) + `"} ` + strconv.FormatUint(cumulative, 10) + "\n")
		}
		b.WriteString("mailsetup_serve_request_duration_seconds_bucket" + label + `+Inf"} ` + strconv.FormatUint(count, 10) + "\n")
		b.WriteString(`mailsetup_serve_request_duration_seconds_sum{endpoint="` + endpointNames[ep] + `"} ` +
			strconv.FormatFloat(float64(m.sumNanos[ep].Load())/1e9, 'g', -1, 64) + "\n")
		b.WriteString(`mailsetup_serve_request_duration_seconds_count{endpoint="` + endpointNames[ep] + `"} ` + strconv.FormatUint(count, 10) + "\n")
	}
	b.WriteString("# HELP mailsetup_serve_rate_limited_total Requests refused by the per-client rate limit.\n")
	b.WriteString("# TYPE mailsetup_serve_rate_limited_total counter\n")
	b.WriteString("mailsetup_serve_rate_limited_total " + strconv.FormatUint(m.limited.Load(), 10) + "\n")
	b.WriteString("# HELP mailsetup_serve_connections_open Connections open now (connections.max caps them).\n")
	b.WriteString("# TYPE mailsetup_serve_connections_open gauge\n")
	b.WriteString("mailsetup_serve_connections_open " + strconv.FormatInt(m.openConns.Load(), 10) + "\n")
	b.WriteString("# HELP mailsetup_serve_connections_refused_total Connections closed on arrival because a cap was full, by cap.\n")
	b.WriteString("# TYPE mailsetup_serve_connections_refused_total counter\n")
	b.WriteString(`mailsetup_serve_connections_refused_total{cap="total"} ` + strconv.FormatUint(m.refusedTotal.Load(), 10) + "\n")
	b.WriteString(`mailsetup_serve_connections_refused_total{cap="per_client"} ` + strconv.FormatUint(m.refusedPerClient.Load(), 10) + "\n")
	b.WriteString("# HELP mailsetup_serve_page_views_total Setup pages shown for an address, by device tab.\n")
	b.WriteString("# TYPE mailsetup_serve_page_views_total counter\n")
	for i, d := range devices {
		b.WriteString(`mailsetup_serve_page_views_total{device="` + d + `"} ` + strconv.FormatUint(m.pageViews[i].Load(), 10) + "\n")
	}
	b.WriteString("# HELP mailsetup_serve_page_downloads_total Files downloaded from the setup page, by device tab and endpoint.\n")
	b.WriteString("# TYPE mailsetup_serve_page_downloads_total counter\n")
	for i, d := range devices {
		for ep := range numEndpoints {
			if n := m.downloads[i][ep].Load(); n > 0 {
				b.WriteString(`mailsetup_serve_page_downloads_total{device="` + d + `",endpoint="` + endpointNames[ep] + `"} ` + strconv.FormatUint(n, 10) + "\n")
			}
		}
	}
	b.WriteString("# HELP mailsetup_serve_renders_total Answers rendered for an address (Apple profiles, Android pages and QR codes); the rest came from the cache.\n")
	b.WriteString("# TYPE mailsetup_serve_renders_total counter\n")
	b.WriteString("mailsetup_serve_renders_total " + strconv.FormatUint(m.rendered.Load(), 10) + "\n")
	b.WriteString("# HELP mailsetup_serve_config_reloads_total Configuration reloads (SIGHUP), by result.\n")
	b.WriteString("# TYPE mailsetup_serve_config_reloads_total counter\n")
	b.WriteString(`mailsetup_serve_config_reloads_total{result="ok"} ` + strconv.FormatUint(m.reloads.ok.Load(), 10) + "\n")
	b.WriteString(`mailsetup_serve_config_reloads_total{result="failed"} ` + strconv.FormatUint(m.reloads.failed.Load(), 10) + "\n")
}
