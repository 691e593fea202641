#!/usr/bin/env bash
# rehearse-fresh-ci.sh runs .ci/run as CI does, on a fresh Debian 12: a new
# debootstrap root (minbase, plus git and ca-certificates), a fresh clone of
# this repository's HEAD at /ci/main, ../shared at /ci/shared and
# /usr/local/go bind-mounted read-only, a clean environment, no stdin. It
# shows what a fresh machine lacks (it found that -race needs gcc) and what a
# whole run costs there.
#
#   sudo scripts/rehearse-fresh-ci.sh [ROOT]    default ROOT: /tmp/mailsetup-fresh-root
#
# ROOT is deleted first and left afterwards for inspection (logs in
# ROOT/ci/logs; about 2.5 GB). Everything is mounted in a private mount
# namespace, so nothing outside ROOT changes. Needs root, debootstrap, and
# the network to Debian's mirror and the Go module proxy. CI_KEEP_GOING
# passes through; SSL_CERT_FILE, when set, is copied in as the trust store
# for the module proxy (for networks that need their own anchors).
set -euo pipefail

readonly ROOT=${1:-/tmp/mailsetup-fresh-root}
readonly REPO=$(cd "$(dirname "$0")/.." && pwd)
readonly SHARED=$REPO/../shared
readonly MIRROR=http://deb.debian.org/debian

die() { echo "rehearse-fresh-ci: $*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "needs root (debootstrap, chroot, mounts)"
command -v debootstrap >/dev/null || die "needs debootstrap: apt-get install debootstrap"
[[ -d $SHARED ]] || die "$SHARED is missing: CI has the shared directory beside the clone"
[[ $ROOT == /* && $ROOT != / ]] || die "ROOT must be an absolute path other than /"

if [[ ${REHEARSE_IN_NAMESPACE:-} != 1 ]]; then
	REHEARSE_IN_NAMESPACE=1 exec unshare -m -- "$BASH" "$0" "$@"
fi
mount --make-rprivate /

rm -rf "$ROOT"
echo "debootstrap bookworm into $ROOT ..."
start=$SECONDS
debootstrap --variant=minbase --include=git,ca-certificates bookworm "$ROOT" "$MIRROR" \
	>"$ROOT.debootstrap.log" 2>&1 || die "debootstrap failed; see $ROOT.debootstrap.log"
echo "debootstrap took $((SECONDS - start))s"
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mkdir -p "$ROOT/usr/local/go" "$ROOT/ci/shared"
mount --bind /usr/local/go "$ROOT/usr/local/go"
mount -o remount,bind,ro "$ROOT/usr/local/go"
mount --bind "$SHARED" "$ROOT/ci/shared"
mount -o remount,bind,ro "$ROOT/ci/shared"
git clone -q "$REPO" "$ROOT/ci/main"

env=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	CI=true CI_LOG_DIR=/ci/logs CI_KEEP_GOING="${CI_KEEP_GOING:-}")
if [[ -n ${SSL_CERT_FILE:-} ]]; then
	cp "$SSL_CERT_FILE" "$ROOT/ci/trust.pem"
	env+=(SSL_CERT_FILE=/ci/trust.pem)
fi
chroot "$ROOT" /usr/bin/env -i "${env[@]}" bash -c 'cd /ci/main && bash .ci/run </dev/null'
