#!/usr/bin/env bash
# realservers.sh starts real Dovecot, Postfix and Radicale on loopback, with
# their own configuration directories and a private CA, so that the integration suite
# (./integration) can prove mailsetup against the servers people really run.
#
#   scripts/realservers.sh test        start the servers in a private network
#                                      namespace, run go test ./integration/...,
#                                      stop them (what .ci/run does)
#   scripts/realservers.sh start DIR   start them here and write DIR/env
#   scripts/realservers.sh stop DIR    stop what "start DIR" started
#
# Needs root, dovecot-imapd, dovecot-pop3d, postfix, radicale (with
# python3-passlib and python3-bcrypt for its bcrypt htpasswd file),
# apache2-utils (htpasswd), openssl, iproute2 and util-linux (unshare). The system's /etc/dovecot and /etc/postfix are never
# read or written: every file lives in DIR, and the daemons listen only on
# 127.0.0.1-3 (so "start" outside a namespace still stays on loopback).
#
# The address plan (DNS is the tests' job: they serve these names):
#   example.test  -> 127.0.0.1  IMAP 143/993, POP3 110/995, SMTP 587/465,
#                               certificate valid for *.example.test
#   mismatch.test -> 127.0.0.2  the same ports, certificate only for
#                               other.test (a name mismatch)
#   starttls.test -> 127.0.0.3  STARTTLS only: IMAP 143, POP3 110, SMTP 587
#   Radicale (CalDAV and CardDAV) on 127.0.0.1:8443, https with the good
#   certificate, the account alice@example.test in a bcrypt htpasswd file.
# Each domain has the account alice@DOMAIN with the password in DIR/env.
set -euo pipefail

readonly GOOD_ADDR=127.0.0.1 MISMATCH_ADDR=127.0.0.2 STARTTLS_ADDR=127.0.0.3
readonly GOOD_DOMAIN=example.test MISMATCH_DOMAIN=mismatch.test STARTTLS_DOMAIN=starttls.test
readonly USER_LOCALPART=alice
readonly DAV_PORT=8443

die() { echo "realservers: $*" >&2; exit 1; }

# make_certs DIR: a throw-away CA (EC keys: fast), a certificate valid for the
# good and STARTTLS-only domains, and one that names only other.test.
make_certs() {
	local tls=$1/tls
	mkdir -p "$tls"
	(
		cd "$tls"
		umask 077
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
		openssl req -x509 -new -key ca.key -days 2 -subj "/CN=mailsetup real-server test CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
		issue() { # name SAN-list
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
			openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
			printf '%s\n' "subjectAltName=$3" "basicConstraints=CA:FALSE" \
				"keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$1.ext"
			openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
				-days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
			rm -f "$1.csr" "$1.ext"
		}
		issue good "mail.$GOOD_DOMAIN" \
			"DNS:$GOOD_DOMAIN,DNS:*.$GOOD_DOMAIN,DNS:$STARTTLS_DOMAIN,DNS:*.$STARTTLS_DOMAIN"
		issue mismatch other.test "DNS:other.test,DNS:*.other.test"
		chmod 644 ca.pem good.pem mismatch.pem
	)
}

write_dovecot() {
	local d=$1 password=$2 dom
	mkdir -p "$d/dovecot/run" "$d/dovecot/state" "$d/mail"
	chown nobody:nogroup "$d/mail"
	: >"$d/dovecot/passwd"
	for dom in "$GOOD_DOMAIN" "$MISMATCH_DOMAIN" "$STARTTLS_DOMAIN"; do
		echo "$USER_LOCALPART@$dom:{PLAIN}$password" >>"$d/dovecot/passwd"
	done
	chgrp dovecot "$d/dovecot/passwd"
	chmod 640 "$d/dovecot/passwd"
	cat >"$d/dovecot/dovecot.conf" <<EOF
# Written by scripts/realservers.sh; a whole configuration, not an include.
instance_name = mailsetup-realservers
protocols = imap pop3
listen = $GOOD_ADDR
base_dir = $d/dovecot/run
state_dir = $d/dovecot/state
log_path = $d/dovecot/dovecot.log
default_internal_user = dovecot
default_login_user = dovenull

ssl = yes
ssl_min_protocol = TLSv1.2
ssl_cert = <$d/tls/good.pem
ssl_key = <$d/tls/good.key
local $MISMATCH_ADDR {
  ssl_cert = <$d/tls/mismatch.pem
  ssl_key = <$d/tls/mismatch.key
}

# Passwords only after TLS, as at any provider that deserves the name.
disable_plaintext_auth = yes
auth_mechanisms = plain login
# Log every password check with the account name, whichever service asked
# (IMAP, POP3, or Postfix's SMTP AUTH): the tests read the log to prove that
# no login reached a server it must not. Passwords are never logged.
auth_verbose = yes
auth_debug = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/dovecot/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%d/%n
}
mail_location = maildir:~/Maildir

service imap-login {
  inet_listener imap {
    address = $GOOD_ADDR $MISMATCH_ADDR $STARTTLS_ADDR
    port = 143
  }
  inet_listener imaps {
    address = $GOOD_ADDR $MISMATCH_ADDR
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = $GOOD_ADDR $MISMATCH_ADDR $STARTTLS_ADDR
    port = 110
  }
  inet_listener pop3s {
    address = $GOOD_ADDR $MISMATCH_ADDR
    port = 995
    ssl = yes
  }
}
# Postfix's SMTP AUTH asks Dovecot (smtpd_sasl_type = dovecot).
service auth {
  unix_listener $d/dovecot/auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
}

write_postfix() {
	local d=$1 pf=$1/postfix
	mkdir -p "$pf/etc" "$pf/queue" "$pf/data"
	chown postfix "$pf/data"
	cat >"$pf/etc/main.cf" <<EOF
# Written by scripts/realservers.sh: submission only, no delivery, no DNS.
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $pf/postfix.log
maillog_file_prefixes = $pf
myhostname = mail.$GOOD_DOMAIN
mydomain = $GOOD_DOMAIN
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
# Every master.cf service names its own 127.0.0.x address; this is the
# fallback and the "own address" list, and Postfix wants it on an interface.
inet_interfaces = loopback-only
inet_protocols = ipv4
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
biff = no

smtpd_tls_chain_files = $d/tls/good.key, $d/tls/good.pem
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $d/dovecot/auth-postfix
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
EOF
	local mismatch_tls="-o smtpd_tls_chain_files=$d/tls/mismatch.key,$d/tls/mismatch.pem"
	cat >"$pf/etc/master.cf" <<EOF
# service type private unpriv chroot wakeup maxproc command + args
$GOOD_ADDR:587     inet n - n - - smtpd
$STARTTLS_ADDR:587 inet n - n - - smtpd
$MISMATCH_ADDR:587 inet n - n - - smtpd $mismatch_tls
$GOOD_ADDR:465     inet n - n - - smtpd -o smtpd_tls_wrappermode=yes
$MISMATCH_ADDR:465 inet n - n - - smtpd -o smtpd_tls_wrappermode=yes $mismatch_tls
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
}

# write_radicale DIR PASSWORD: Radicale's own configuration, its bcrypt
# password file (htpasswd -B; Radicale reads it with passlib) and storage.
write_radicale() {
	local d=$1 password=$2 r=$1/radicale
	mkdir -p "$r/collections"
	htpasswd -B -b -c "$r/users" "$USER_LOCALPART@$GOOD_DOMAIN" "$password" 2>/dev/null
	chmod 600 "$r/users"
	cat >"$r/config" <<EOF
# Written by scripts/realservers.sh; the system's /etc/radicale is not read.
[server]
hosts = $GOOD_ADDR:$DAV_PORT
ssl = True
certificate = $d/tls/good.pem
key = $d/tls/good.key
[auth]
type = htpasswd
htpasswd_filename = $r/users
htpasswd_encryption = bcrypt
[rights]
type = owner_only
[storage]
filesystem_folder = $r/collections
[web]
type = none
[logging]
level = info
EOF
}

# wait_listening ADDR:PORT...: the daemons fork and return before they listen.
wait_listening() {
	local hp i
	for hp in "$@"; do
		for ((i = 0; i < 100; i++)); do
			(exec 3<>"/dev/tcp/${hp%:*}/${hp#*:}") 2>/dev/null && continue 2
			sleep 0.1
		done
		return 1
	done
}

start() {
	local d=$1 password
	[[ $(id -u) == 0 ]] || die "needs root (Dovecot and Postfix bind ports below 1024)"
	mkdir -p "$d"
	chmod 755 "$d" # the daemons' own users must reach their files
	password=$(openssl rand -hex 12)
	make_certs "$d"
	write_dovecot "$d" "$password"
	write_postfix "$d"
	write_radicale "$d" "$password"
	# The daemons must not keep the caller's stdout open: a pipe reading it
	# (.ci/run's tee) would wait for them forever.
	if ! dovecot -c "$d/dovecot/dovecot.conf" </dev/null >"$d/dovecot/start.log" 2>&1; then
		cat "$d/dovecot/start.log" "$d/dovecot/dovecot.log" >&2 2>/dev/null || true
		die "dovecot did not start (configuration: $d/dovecot/dovecot.conf)"
	fi
	if ! postfix -c "$d/postfix/etc" start </dev/null >"$d/postfix/start.log" 2>&1; then
		cat "$d/postfix/start.log" "$d/postfix/postfix.log" >&2 2>/dev/null || true
		die "postfix did not start (configuration: $d/postfix/etc)"
	fi
	# Radicale has no daemon mode: it runs in the background of this script
	# (test) or of the caller's shell (start), its pid kept for stop.
	radicale --config "$d/radicale/config" </dev/null >"$d/radicale/radicale.log" 2>&1 &
	echo $! >"$d/radicale/pid"
	if ! wait_listening $GOOD_ADDR:$DAV_PORT $GOOD_ADDR:143 $GOOD_ADDR:993 $GOOD_ADDR:110 $GOOD_ADDR:995 \
		$MISMATCH_ADDR:993 $STARTTLS_ADDR:143 $STARTTLS_ADDR:110 \
		$GOOD_ADDR:587 $GOOD_ADDR:465 $MISMATCH_ADDR:465 $STARTTLS_ADDR:587; then
		cat "$d/dovecot/dovecot.log" "$d/postfix/postfix.log" >&2 2>/dev/null || true
		die "the servers did not start listening within 10 s"
	fi
	cat >"$d/env" <<EOF
export MAILSETUP_REALSERVERS=1
export MAILSETUP_REAL_CA_FILE=$d/tls/ca.pem
export MAILSETUP_REAL_USER=$USER_LOCALPART
export MAILSETUP_REAL_PASSWORD=$password
export MAILSETUP_REAL_DOMAIN=$GOOD_DOMAIN
export MAILSETUP_REAL_ADDR=$GOOD_ADDR
export MAILSETUP_REAL_MISMATCH_DOMAIN=$MISMATCH_DOMAIN
export MAILSETUP_REAL_MISMATCH_ADDR=$MISMATCH_ADDR
export MAILSETUP_REAL_STARTTLS_DOMAIN=$STARTTLS_DOMAIN
export MAILSETUP_REAL_STARTTLS_ADDR=$STARTTLS_ADDR
export MAILSETUP_REAL_LOGS="$d/dovecot/dovecot.log $d/postfix/postfix.log $d/radicale/radicale.log"
export MAILSETUP_REAL_DAV_PORT=$DAV_PORT
EOF
	chmod 600 "$d/env"
}

stop() {
	local d=$1 pidfile pid pids=() i
	# The masters remove their pid files as they exit: read them first.
	for pidfile in "$d/postfix/queue/pid/master.pid" "$d/dovecot/run/master.pid"; do
		[[ -f $pidfile ]] && pids+=("$(tr -d ' \n' <"$pidfile")")
	done
	[[ -f $d/postfix/etc/main.cf ]] && postfix -c "$d/postfix/etc" stop >/dev/null 2>&1 || true
	[[ -f $d/dovecot/dovecot.conf ]] && dovecot -c "$d/dovecot/dovecot.conf" stop 2>/dev/null || true
	[[ -f $d/radicale/pid ]] && kill "$(cat "$d/radicale/pid")" 2>/dev/null || true
	# Both return before their masters have exited; wait so that DIR can go.
	# Then end whatever is left of each master's process group (they
	# daemonize with setsid): a child that outlives its master (Dovecot's
	# login and auth processes have been seen to) would keep running.
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
	done
}

# only_loopback: true inside a network namespace whose only link is lo.
only_loopback() {
	[[ -z $(ip -o link show | awk -F': ' '$2 != "lo"') ]]
}

run_tests() {
	if ! only_loopback; then
		exec unshare -n -- bash "$0" test "$@"
	fi
	ip link set lo up
	RUN_DIR=$(mktemp -d /tmp/mailsetup-realservers.XXXXXX)
	trap 'stop "$RUN_DIR"; rm -rf "$RUN_DIR"' EXIT
	start "$RUN_DIR"
	# shellcheck source=/dev/null
	source "$RUN_DIR/env"
	cd "$(dirname "$0")/.."
	command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH # sudo resets PATH
	if ! go test -count=1 "$@" ./integration/...; then
		echo "--- server logs ($MAILSETUP_REAL_LOGS)" >&2
		tail -n 50 $MAILSETUP_REAL_LOGS >&2 || true
		return 1
	fi
}

case ${1:-} in
test) shift; run_tests "$@" ;;
start) [[ $# == 2 ]] || die "usage: $0 start DIR"; start "$2"; echo "source $2/env" ;;
stop) [[ $# == 2 ]] || die "usage: $0 stop DIR"; stop "$2" ;;
*) die "usage: $0 test [go test flags] | start DIR | stop DIR" ;;
esac
