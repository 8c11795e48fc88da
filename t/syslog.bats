#!/usr/bin/env bats
# What the MTA path tells the admin: errors of check and policy reach
# syslog (the MTA may keep stderr from them) pointing at greylist doctor,
# policy answers DUNNO without a usable configuration, and a message gets
# one header however many recipients pass.

load test_helper
load syslog_helper

setup() {
	setup_db
	syslog_start
}

teardown() {
	syslog_stop
}

# to RCPT [INSTANCE]: an RCPT request for RCPT from the standard client
# and sender, for message INSTANCE (one message by default).
to() {
	rcpt "$IP" "$S" "$1" "${2:-1a2b.655a1b00.c3d4e.0}"
}

@test "check logs a config error to syslog and names greylist doctor" {
	conf 'embargo soon'
	run -2 --separate-stderr gl check --ip=$IP --sender=$S --rcpt=a@example.net
	assert_regex "$stderr" "^greylist: $CONF: line 2: "
	syslog_has "^<19>greylist\[[0-9]+\]: check: failing open: $CONF: line 2: .*greylist doctor"
}

@test "check logs a usage error to syslog once, without its own prefix twice" {
	run -2 gl check --ip=$IP --sender=$S
	syslog_has '^<19>greylist\[[0-9]+\]: check: failing open: --ip, --sender and --rcpt are required \(greylist doctor finds the cause\)$'
}

@test "check logs a database it cannot create to syslog" {
	bdb_only "the database directory"
	: >"$BATS_TEST_TMPDIR/file"
	printf 'database %s\n' "$BATS_TEST_TMPDIR/file/db" >"$CONF"
	run -2 gl check --ip=$IP --sender=$S --rcpt=a@example.net
	syslog_has "check: failing open: $BATS_TEST_TMPDIR/file/db: Not a directory"
}

@test "check whose configuration never comes fails open within its start-up bound and says so to syslog" {
	# A FIFO nobody writes: reading the configuration blocks for good.
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	run -2 --separate-stderr "$GREYLIST_BIN" -c "$BATS_TEST_TMPDIR/fifo" check \
		--ip=$IP --sender=$S --rcpt=a@example.net
	assert_equal "$output" ''
	assert_regex "$stderr" '^greylist: did not start in time'
	syslog_has '^<19>greylist\[[0-9]+\]: check: failing open: did not start in time \(configuration or user database stuck\) \(greylist doctor finds the cause\)$'
}

@test "policy with a bad config answers DUNNO to every request and logs why" {
	conf 'embargo soon'
	run -2 --separate-stderr policy_at "$T0" < <(to a@example.net; to b@example.net)
	assert_equal "$output" "$(printf 'action=DUNNO\n\naction=DUNNO\n')"
	syslog_has "^<19>greylist\[[0-9]+\]: policy: failing open: $CONF: line 2: .*greylist doctor"
}

@test "policy under spawn(8) keeps a config error off the reply socket" {
	conf 'embargo soon'
	# stdout and stderr are one socket, as spawn(8) makes them.
	run -2 python3 -c '
import socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.Popen(sys.argv[1:], stdin=b, stdout=b, stderr=b)
b.close()
a.sendall(sys.stdin.buffer.read())
a.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = a.recv(4096)
    if not d:
        break
    out += d
sys.stdout.buffer.write(out)
sys.exit(p.wait())
' "$GREYLIST_BIN" -c "$CONF" policy < <(to a@example.net)
	assert_equal "$output" 'action=DUNNO'
	syslog_has "policy: failing open: $CONF: line 2: "
}

@test "a message to three recipients that pass gets one header" {
	conf 'no_delay 192.0.2.0/24'
	run -0 policy_at "$T0" < <(to a@example.net; to b@example.net; to c@example.net)
	assert_equal "$(grep -c '^action=PREPEND X-Greylist: ' <<<"$output")" 1
	assert_equal "$(grep -c '^action=DUNNO$' <<<"$output")" 2
	assert_equal "${lines[0]%%:*}" 'action=PREPEND X-Greylist'
}

@test "the next message in the same session gets its own header" {
	conf 'no_delay 192.0.2.0/24'
	run -0 policy_at "$T0" < <(to a@example.net m1; to b@example.net m1; to a@example.net m2)
	assert_equal "$(grep -c '^action=PREPEND X-Greylist: ' <<<"$output")" 2
	assert_regex "${lines[2]}" '^action=PREPEND X-Greylist: '
}

@test "a check that its watchdog ends tells syslog why it fails open" {
	hang_ready
	run -1 check_at "$T0" "$IP" "$S" a@example.net
	conf 'timeout 300ms'
	run -2 hung -c "$CONF" check --ip=198.51.100.1 --sender=$S --rcpt=a@example.net
	syslog_has '^<19>greylist\[[0-9]+\]: check: failing open: database did not answer in time \(greylist doctor finds the cause\)$'
}

@test "a policy process that its watchdog ends tells syslog why it fails open" {
	hang_ready
	run -1 check_at "$T0" "$IP" "$S" a@example.net
	conf 'timeout 300ms'
	run -2 hung -c "$CONF" policy < <(rcpt 198.51.100.1 "$S" b@example.net)
	syslog_has '^<19>greylist\[[0-9]+\]: policy: failing open: database did not answer in time'
}
