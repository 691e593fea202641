#!/usr/bin/env bash
# Benchmark of `mailsetup serve` against a bare net/http handler that writes
# the same bytes (issue 7, "Speed"): wrk, 256 connections, GET autoconfig,
# POST Autodiscover, and the answers rendered per address (issue 15: the
# Android page and QR image, the Apple profile), rate limit off, alternating
# runs in one session, median of RUNS runs, runs with any non-2xx answer
# discarded; and the setup page (issue 16: GET / and the page for an
# address, at least 0.5x). Loopback only.
#
#   scripts/bench-serve.sh            # 5 runs of 5 s per case
#   RUNS=7 DURATION=10s scripts/bench-serve.sh
#   CASES="android mobileconfig" scripts/bench-serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
CASES=${CASES:-get post android android-png mobileconfig page page-address}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-256}
THREADS=${THREADS:-2}
OURS_ADDR=127.0.0.1:18480
BARE_ADDR=127.0.0.1:18481

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/mailsetup" ./cmd/mailsetup
go build -o "$work/barehandler" ./autoconfig/server/internal/barehandler

# The example configuration with the rate limit and request log off, and
# room for wrk's connections from one address.
cp examples/serve.yaml examples/example.test.xml "$work/"
sed -i -e 's/^  per_minute: 60 .*/  per_minute: 0/' -e 's/^  requests: true .*/  requests: false/' \
	-e "s/^  per_client: 64 .*/  per_client: $((CONNECTIONS + 16))/" "$work/serve.yaml"
grep -q '^  per_minute: 0' "$work/serve.yaml" && grep -q '^  requests: false' "$work/serve.yaml" && grep -q "^  per_client: $((CONNECTIONS + 16))" "$work/serve.yaml"

"$work/mailsetup" serve --config "$work/serve.yaml" --listen "$OURS_ADDR" 2>"$work/serve.log" &
pids+=($!)
ours_pid=$!

email='alice@example.test'
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml"
wrk.body = [[<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>$email</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>]]
LUA

for _ in $(seq 50); do curl -sf "http://$OURS_ADDR/healthz" >/dev/null && break; sleep 0.1; done
get_path="/mail/config-v1.1.xml?emailaddress=$email"
# The bare handler serves exactly what mailsetup answers.
curl -sf -H 'Host: autoconfig.example.test' "http://$OURS_ADDR$get_path" >"$work/get.body"
curl -sf -H 'Host: autodiscover.example.test' -H 'Content-Type: text/xml' \
	--data-binary @<(sed -n '/^wrk.body = \[\[/,/\]\]$/p' "$work/post.lua" | sed -e 's/^wrk.body = \[\[//' -e 's/\]\]$//') \
	"http://$OURS_ADDR/Autodiscover/Autodiscover.xml" >"$work/post.body"
# The answers rendered per address, fetched once for the bare handler.
query="emailaddress=alice%40example.test"
declare -A path_of=([get]="$get_path" [post]=/Autodiscover/Autodiscover.xml [android]="/android?$query"
	[android-png]="/android.png?$query" [mobileconfig]="/mail.mobileconfig?$query"
	[page]=/ [page-address]="/?$query&device=android")
declare -A host_of=([get]=autoconfig.example.test [post]=autodiscover.example.test [android]=example.test
	[android-png]=example.test [mobileconfig]=example.test [page]=setup.example.test [page-address]=setup.example.test)
answers=()
for c in android android-png mobileconfig page page-address; do
	p=${path_of[$c]}
	ct=$(curl -sf -o "$work/$c.body" -w '%{content_type}' -H "Host: ${host_of[$c]}" "http://$OURS_ADDR$p")
	answers+=(-answer "$p,$ct,$work/$c.body")
done
"$work/barehandler" -listen "$BARE_ADDR" -get "$work/get.body" -post "$work/post.body" "${answers[@]}" &
pids+=($!)
bare_pid=$!
for _ in $(seq 50); do curl -sf "http://$BARE_ADDR/" >/dev/null && break; sleep 0.1; done

# run NAME ADDR HOST PATH [LUA]: one wrk run; appends "NAME rps p50 p99 ITERATION" to results.
run() {
	local name=$1 addr=$2 host=$3 path=$4 script=${5:-}
	local out
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Host: $host" ${script:+-s "$script"} "http://$addr$path")
	if grep -q 'Non-2xx or 3xx responses' <<<"$out" || grep -q 'Socket errors' <<<"$out"; then
		echo "discarded $name run: $(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ')" >&2
		return
	fi
	local rps p50 p99
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	echo "$name $rps $p50 $p99 $i" >>"$work/results"
	echo "$name: $rps req/s, p50 $p50, p99 $p99" >&2
}

# Warm up both servers once.
wrk -t2 -c"$CONNECTIONS" -d1s -H 'Host: autoconfig.example.test' "http://$OURS_ADDR$get_path" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d1s "http://$BARE_ADDR$get_path" >/dev/null

for i in $(seq "$RUNS"); do
	for c in $CASES; do
		lua=""
		[[ $c == post ]] && lua="$work/post.lua"
		# Alternate which server goes first, so drift in the machine's load is shared.
		if ((i % 2)); then
			run "ours-$c" "$OURS_ADDR" "${host_of[$c]}" "${path_of[$c]}" "$lua"
			run "bare-$c" "$BARE_ADDR" "${host_of[$c]}" "${path_of[$c]}" "$lua"
		else
			run "bare-$c" "$BARE_ADDR" "${host_of[$c]}" "${path_of[$c]}" "$lua"
			run "ours-$c" "$OURS_ADDR" "${host_of[$c]}" "${path_of[$c]}" "$lua"
		fi
	done
done

rss() { awk '/^VmHWM:/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }
median() { awk -v n="$1" '$1 == n {print $2}' "$work/results" | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
medianLatency() { awk -v n="$1" -v col="$2" '$1 == n {print $col}' "$work/results" | sed -E 's/us$/ 1/; s/ms$/ 1000/; s/([0-9.])s$/\1 1000000/' |
	awk '{print $1*$2}' | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else printf "%.0f us\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, medians of the runs kept (of $RUNS each), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# pairRatio CASE: median over iterations of ours/bare from the same iteration.
pairRatio() { awk -v c="$1" '$1 == "ours-"c {o[$5]=$2} $1 == "bare-"c {b[$5]=$2} END {for (i in o) if (i in b) print o[i]/b[i]}' "$work/results" |
	sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else printf "%.2fx\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

printf '%-12s %10s %10s %13s %13s %9s %9s %9s %9s\n' case "ours/s" "bare/s" "ratio(med)" "ratio(pairs)" "p50 ours" "p99 ours" "p50 bare" "p99 bare"
for c in $CASES; do
	o=$(median "ours-$c")
	b=$(median "bare-$c")
	printf '%-12s %10.0f %10.0f %13s %13s %9s %9s %9s %9s\n' "$c" "$o" "$b" "$(awk -v o="$o" -v b="$b" 'BEGIN {printf "%.2fx", o/b}')" \
		"$(pairRatio "$c")" "$(medianLatency "ours-$c" 3)" "$(medianLatency "ours-$c" 4)" "$(medianLatency "bare-$c" 3)" "$(medianLatency "bare-$c" 4)"
done
echo "peak RSS: mailsetup serve $(rss "$ours_pid"), bare handler $(rss "$bare_pid")"
echo "runs kept: $(awk '{print $1}' "$work/results" | sort | uniq -c | tr -s ' ' | paste -sd, -)"

# The worst case for memory (issue 15): every request a new address, so
# nothing comes from the cache and every answer is rendered (at most two at
# once), then connections.max + 76 idle keep-alive connections held open.
[[ ${FLOOD:-1} == 0 ]] && exit 0
cat >"$work/distinct.lua" <<'LUA'
local paths = {"/android.png", "/mail.mobileconfig", "/android"}
local n = 0
setup = function(thread) thread:set("id", tostring(math.random(1, 1000000000))) end
init = function() n = 0 end
request = function()
	n = n + 1
	return wrk.format("GET", paths[(n % 3) + 1] .. "?emailaddress=u" .. id .. "x" .. n .. "%40example.test", {Host = "example.test"})
end
LUA
flood=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$work/distinct.lua" "http://$OURS_ADDR/")
echo
echo "distinct addresses: $(awk '/^Requests\/sec:/ {print $2}' <<<"$flood") req/s, $(grep -E 'Non-2xx|Socket errors' <<<"$flood" | tr -s ' ' | paste -sd, - || true)"
python3 - "$OURS_ADDR" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
held = []
for _ in range(1100):
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    held.append(s)
time.sleep(2)
def answered(s):
    try:
        return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
n = sum(1 for s in held if answered(s))
print(f"idle connections: {n} of {len(held)} held open and answered")
PY
curl -s "http://$OURS_ADDR/metrics" | grep -E '^mailsetup_serve_(renders_total|connections_refused_total)|code="503"' || true
echo "peak RSS after the flood: mailsetup serve $(rss "$ours_pid")"
