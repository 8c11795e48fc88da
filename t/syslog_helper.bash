# The tests' syslog: a datagram socket the test owns, named to greylist by
# GREYLIST_SYSLOG (honoured only when the caller's environment is trusted),
# and a listener that writes each message it gets as one line of
# $SYSLOG_OUT.

# syslog_start: starts the listener and exports GREYLIST_SYSLOG.
syslog_start() {
	SYSLOG_SOCK=$BATS_TEST_TMPDIR/log.sock
	SYSLOG_OUT=$BATS_TEST_TMPDIR/syslog
	: >"$SYSLOG_OUT"
	# fd 3 is bats' own: the background process must not hold it.
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).replace(b"\n", b" ") + b"\n")
' "$SYSLOG_SOCK" "$SYSLOG_OUT" 3>&- &
	SYSLOG_PID=$!
	local i
	for i in $(seq 200); do
		[ -S "$SYSLOG_SOCK" ] && break
		sleep 0.05
	done
	[ -S "$SYSLOG_SOCK" ] || fail "the test syslog did not start"
	export GREYLIST_SYSLOG=$SYSLOG_SOCK
}

syslog_stop() {
	[ -z "${SYSLOG_PID:-}" ] || kill "$SYSLOG_PID" 2>/dev/null || true
	unset GREYLIST_SYSLOG
}

# syslog_has PATTERN: some message matches the extended regex PATTERN;
# waits for the listener (never more than 5 s). Shows what came otherwise.
syslog_has() {
	local i
	for i in $(seq 100); do
		grep -Eq -- "$1" "$SYSLOG_OUT" && return 0
		sleep 0.05
	done
	echo "syslog got:" >&2
	cat "$SYSLOG_OUT" >&2
	return 1
}
