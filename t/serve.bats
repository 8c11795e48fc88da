#!/usr/bin/env bats
# greylist serve: the resident server, through its socket. Check lines
# (Exim's protocol) and Postfix policy requests, the bounds (request
# size, connections, idle time), the store's crash safety with the
# server killed under load, recovery, reload, socket activation.
# t/exim.bats runs the Exim stanza against it (t/serve/exim.sbats).

load test_helper

CLIENT=$BATS_TEST_DIRNAME/serve-client
DEFER5='451 4.7.1 Greylisted, please retry later retry=00:05:00'

setup() {
	setup_db
	SOCK=$BATS_TEST_TMPDIR/sock
	LOG=$BATS_TEST_TMPDIR/serve.log
}

teardown() {
	stop
}

# start SECONDS [OPTIONS...]: a server at that clock on $SOCK; $PID.
start() {
	GREYLIST_NOW=$1 "$GREYLIST_BIN" -v -c "$CONF" serve --socket="$SOCK" \
		"${@:2}" </dev/null >/dev/null 2>>"$LOG" 3>&- &
	PID=$!
	wait_socket "$SOCK" "$PID"
}

stop() {
	[ -n "${PID:-}" ] || return 0
	kill -CONT "$PID" 2>/dev/null || true
	kill "$PID" 2>/dev/null || true
	wait "$PID" 2>/dev/null || true
	PID=
}

# ask LINE...: the lines sent on one connection; the answers printed.
ask() {
	printf '%s\n' "$@" | "$CLIENT" "$SOCK"
}

# line IP SENDER RCPT: a check line.
line() {
	printf 'check --ip=%s --sender=%s --rcpt=%s' "$1" "$2" "$3"
}

# postfix IP SENDER RCPT: a Postfix RCPT policy request.
postfix() {
	printf '%s\n' request=smtpd_access_policy protocol_state=RCPT \
		"client_address=$1" "sender=$2" "recipient=$3" ''
}

@test "a check line is answered with check's exit status and line" {
	start "$T0"
	run -0 ask "$(line "$IP" "$S" "$R")"
	assert_output "1 $DEFER5"
	stop
	start $((T0 + EMBARGO))
	run -0 ask "$(line "$IP" "$S" "$R")"
	assert_output "0 X-Greylist: delayed $EMBARGO seconds"
	run -0 gl list --csv
	assert_output --partial ",$R,"
}

# q VALUE: VALUE as Exim's ${quote:} writes it.
q() {
	local v=${1//\\/\\\\}
	v=${v//\"/\\\"}
	printf '"%s"' "$v"
}

@test "values quoted as Exim's \${quote:} writes them arrive whole" {
	local sender=$'"a b\\"c \'d;$(x)"@Example.org'
	start "$T0"
	run -0 ask "check --ip=$IP --sender=$(q "$sender") --rcpt=$(q "$R") --helo=$(q '')"
	assert_output "1 $DEFER5"
	run -0 at $((T0 + EMBARGO)) check --ip="$IP" --sender="$sender" \
		--rcpt="$R"
	assert_output "X-Greylist: delayed $EMBARGO seconds"
}

@test "several lines on one connection are answered in turn" {
	start "$T0"
	run -0 ask "$(line "$IP" "$S" "$R")" "$(line "$IP" "$S" "$R")"
	assert_output "1 $DEFER5"$'\n'"1 $DEFER5"
}

@test "Postfix policy requests on the same socket get Postfix's actions" {
	start "$T0"
	run -0 "$CLIENT" "$SOCK" < <(postfix "$IP" "$S" "$R"; postfix "$IP" "$S" carol@example.net)
	assert_output "$(printf 'action=DEFER_IF_PERMIT %s\n\n' "${DEFER5#451 }" "${DEFER5#451 }")"
	stop
	start $((T0 + EMBARGO))
	run -0 "$CLIENT" "$SOCK" < <(postfix "$IP" "$S" "$R")
	assert_output "$(printf 'action=PREPEND X-Greylist: delayed %s seconds\n\n' "$EMBARGO")"
}

@test "malformed check lines are answered 2 with the reason, logged, and the server goes on" {
	start "$T0"
	run -0 ask "check --ip=$IP" 'check --sender="x' 'hello' \
		"check --ip=$IP --sender=$S --rcpt=$R --bogus=1" \
		"check --ip=999.1.1.1 --sender=$S --rcpt=$R"
	assert_line -n 0 '2 greylist: check: --ip, --sender and --rcpt are required'
	assert_line -n 1 '2 greylist: malformed request: unterminated quote'
	assert_line -n 2 '2 greylist: malformed request: not a check line'
	assert_line -n 3 "2 greylist: check: unknown option or missing value '--bogus=1'"
	assert_line -n 4 --regexp '^2 greylist: check: .*--ip'
	run -0 ask "$(line "$IP" "$S" "$R")"
	assert_output "1 $DEFER5"
	run grep -c 'failing open' "$LOG"
	assert_output 5
}

@test "a request line longer than 4096 bytes is answered 2 and the connection closed" {
	start "$T0"
	run -0 ask "check --ip=$IP --sender=$(printf '%05000d' 0)@x.org --rcpt=$R" \
		"$(line "$IP" "$S" "$R")"
	assert_output '2 greylist: request longer than 4096 bytes'
	run -0 ask "$(line "$IP" "$S" "$R")"
	assert_output "1 $DEFER5"
}

@test "a malformed Postfix request gets DUNNO" {
	start "$T0"
	run -0 "$CLIENT" "$SOCK" < <(printf 'request=smtpd_access_policy\nno equals sign\n\n')
	assert_output "$(printf 'action=DUNNO\n\n')"
	grep -q 'malformed request' "$LOG"
}

@test "a client that sends too slowly is closed after --idle seconds; others are served meanwhile" {
	start "$T0" --idle=1
	"$CLIENT" "$SOCK" 0.4 < <(line "$IP" "$S" "$R") >"$BATS_TEST_TMPDIR/slow" &
	local slow=$!
	run -0 ask "$(line "$IP" "$S" carol@example.net)"
	assert_output "1 $DEFER5"
	wait "$slow" || true
	run cat "$BATS_TEST_TMPDIR/slow"
	assert_output ''
	grep -q 'idle for 1000 ms: closed' "$LOG"
}

@test "clients beyond --max-conn wait for a free slot and are then served" {
	start "$T0" --max-conn=2 --idle=1
	# Two clients that send slowly hold both slots until their idle end.
	"$CLIENT" "$SOCK" 0.5 < <(line "$IP" "$S" "$R") >/dev/null 2>&1 &
	"$CLIENT" "$SOCK" 0.5 < <(line "$IP" "$S" "$R") >/dev/null 2>&1 &
	local tries=0
	until grep -q '2 connections, the limit' "$LOG"; do
		tries=$((tries + 1))
		assert [ "$tries" -lt 500 ]
		sleep 0.01
	done
	run -0 ask "$(line "$IP" "$S" carol@example.net)"
	assert_output "1 $DEFER5"
	grep -q 'idle for 1000 ms: closed' "$LOG"
}

@test "a second server on a socket in use is refused" {
	start "$T0"
	run -2 --separate-stderr gl serve --socket="$SOCK"
	assert_equal "$stderr" "greylist: serve: $SOCK: another server is listening"
}

@test "a socket left by a killed server is replaced at the next start" {
	start "$T0"
	kill -9 "$PID"
	wait "$PID" || true
	start "$T0"
	run -0 ask "$(line "$IP" "$S" "$R")"
	assert_output "1 $DEFER5"
}

@test "--listen takes loopback addresses only and answers there" {
	run -2 --separate-stderr gl serve --socket="$SOCK" --listen=192.0.2.1:10023
	assert_regex "$stderr" 'only a loopback address'
	local port=$((20000 + RANDOM % 20000))
	start "$T0" --listen=127.0.0.1:$port
	run -0 "$CLIENT" 127.0.0.1:$port < <(line "$IP" "$S" "$R"; echo)
	assert_output "1 $DEFER5"
}

@test "the sockets systemd passes (LISTEN_FDS, LISTEN_PID) are used" {
	GREYLIST_NOW=$T0 python3 - "$SOCK" "$GREYLIST_BIN" "$CONF" <<'PY' \
		2>>"$LOG" &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(16)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execve(sys.argv[2], [sys.argv[2], "-c", sys.argv[3], "serve",
          "--socket=/nonexistent/dir/sock"], env)
PY
	PID=$!
	wait_socket "$SOCK" "$PID"
	run -0 ask "$(line "$IP" "$S" "$R")"
	assert_output "1 $DEFER5"
}

@test "SIGHUP reloads the configuration; a broken one leaves the old in force" {
	start "$T0"
	conf 'reply 450 4.2.0 Later (%s s)'
	kill -HUP "$PID"
	run -0 ask "$(line "$IP" "$S" "$R")"
	assert_output '1 450 4.2.0 Later (300 s)'
	conf 'no_such_keyword yes'
	kill -HUP "$PID"
	run -0 ask "$(line "$IP" "$S" carol@example.net)"
	assert_output '1 450 4.2.0 Later (300 s)'
	grep -q 'configuration not reloaded' "$LOG"
}

@test "the server lets a recovery another process asked for happen" {
	bdb_only "the recovery mark of Berkeley DB"
	start "$T0"
	run -0 ask "$(line "$IP" "$S" "$R")"
	touch "$DB/recover"
	# check needs the server out of the store to recover it.
	SECONDS=0
	run -1 at "$T0" check --ip="$IP" --sender="$S" --rcpt=carol@example.net
	assert [ "$SECONDS" -lt 3 ]
	assert [ ! -e "$DB/recover" ]
	grep -q 'database closed for a recovery' "$LOG"
	run -0 ask "$(line "$IP" "$S" "$R")"
	assert_output --partial '1 451 4.7.1 Greylisted, please retry later retry=00:0'
}

# load N OUT: N clients at once, each asking for 40 new triplets one
# connection at a time, as Exim does; each answer "1 ..." is written to
# OUT as "RCPT". Ends when the server is gone.
load() {
	python3 - "$SOCK" "$1" "$2" <<'PY'
import os, socket, sys, threading
path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
f = open(out, "w")
def client(k):
    for i in range(40):
        rcpt = "u%d.%d@example.net" % (k, i)
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(path)
            s.sendall(("check --ip=192.0.2.1 --sender=alice@example.org "
                       "--rcpt=%s\n" % rcpt).encode())
            s.shutdown(socket.SHUT_WR)
            a = s.recv(4096).decode()
            s.close()
        except OSError:
            continue
        if a.startswith("1 "):
            with lock:
                f.write(rcpt + "\n")
                f.flush()
ts = [threading.Thread(target=client, args=(k,)) for k in range(n)]
for t in ts: t.start()
for t in ts: t.join()
PY
}

@test "a server killed with SIGKILL under load loses no acknowledged decision; the Exim stanza fails open meanwhile and the next start recovers" {
	start "$T0"
	: >"$BATS_TEST_TMPDIR/acked"
	load 6 "$BATS_TEST_TMPDIR/acked" &
	local loader=$!
	until [ "$(wc -l <"$BATS_TEST_TMPDIR/acked")" -ge 30 ]; do
		sleep 0.01
	done
	kill -9 "$PID"
	wait "$PID" || true
	PID=
	wait "$loader"
	# No server: a client fails at once, as the stanza's readsocket does.
	SECONDS=0
	run -1 "$CLIENT" "$SOCK" < <(line "$IP" "$S" "$R")
	assert [ "$SECONDS" -lt 2 ]
	# A check meanwhile answers, or, when the kill left a lock held in
	# the store, fails open within its timeout and marks the store for
	# recovery; the next one recovers it and answers.
	SECONDS=0
	run --separate-stderr at "$T0" check --ip=198.51.100.1 --sender="$S" \
		--rcpt="$R"
	assert [ "$SECONDS" -lt 4 ]
	if [ "$status" -ne 1 ]; then
		assert_equal "$status" 2
		assert_regex "$stderr" 'did not answer in time|recover'
		run -1 at "$T0" check --ip=198.51.100.1 --sender="$S" \
			--rcpt="$R"
	fi
	start "$T0"
	run -0 ask "$(line 198.51.100.1 "$S" "$R")"
	assert_output "1 $DEFER5"
	gl list --csv >"$BATS_TEST_TMPDIR/stored"
	local rcpt n=0
	while read -r rcpt; do
		grep -qF ",$rcpt," "$BATS_TEST_TMPDIR/stored" ||
			fail "acknowledged but not stored: $rcpt"
		n=$((n + 1))
	done <"$BATS_TEST_TMPDIR/acked"
	assert [ "$n" -ge 30 ]
}
