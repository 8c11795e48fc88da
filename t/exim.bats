#!/usr/bin/env bats
# share/exim/greylist.acl in the real Exim:
# "exim -bh IP" runs an SMTP session from client IP on stdin and stdout,
# with no daemon, no network and no delivery, under a test configuration
# (t/exim/exim.conf) that includes greylist.acl unchanged. Exim's log
# lines go to stderr, prefixed "LOG: ".
#
# GREYLIST_TEST_STANZA=serve (t/serve-run, t/redis/exim-serve.rbats)
# runs the same tests against share/exim/greylist-serve.acl and a
# "greylist serve" on a socket in the test's directory, restarted at the
# test's clock whenever the clock moves.

load test_helper

: "${GREYLIST_SRCDIR:=$BATS_TEST_DIRNAME/..}"
HELPERS=$BATS_TEST_DIRNAME/exim
FAILED='451 4.3.0 Greylisting unavailable, please retry later'

setup() {
	EXIM=$(command -v exim || command -v /usr/sbin/exim) ||
		skip "exim is not installed (Debian: exim4-daemon-light)"
	setup_db
	mkdir -p "$BATS_TEST_TMPDIR/exim/spool"
	# The Exim macros of the test, written above t/exim/exim.conf.
	declare -gA MACRO=(
		[TEST_DIR]=$BATS_TEST_TMPDIR
		[TEST_UID]=$(id -u)
		[TEST_GID]=$(id -g)
		[GREYLIST_ACL]=$GREYLIST_SRCDIR/share/exim/greylist.acl
		[GREYLIST_BIN]=$GREYLIST_BIN
		[GREYLIST_CONF]=$CONF
	)
	if serving; then
		MACRO[GREYLIST_ACL]=$GREYLIST_SRCDIR/share/exim/greylist-serve.acl
		MACRO[GREYLIST_SOCKET]=$BATS_TEST_TMPDIR/sock
		MACRO[GREYLIST_TIMEOUT]=1s
	fi
}

teardown() {
	serve_stop
}

serving() {
	[ "${GREYLIST_TEST_STANZA:-run}" = serve ]
}

# serve_at SECONDS: a server at that clock (the one running if it has
# it); its log in $BATS_TEST_TMPDIR/serve.log. Called inside run's
# subshell too: the server's pid and clock are kept in files.
serve_at() {
	local d=$BATS_TEST_TMPDIR
	[ "$(cat "$d/serve.now" 2>/dev/null)" = "$1" ] && return 0
	serve_stop
	GREYLIST_NOW=$1 "$GREYLIST_BIN" -v -c "$CONF" serve \
		--socket="$d/sock" </dev/null >/dev/null 2>>"$d/serve.log" 3>&- &
	echo $! >"$d/serve.pid"
	echo "$1" >"$d/serve.now"
	wait_socket "$d/sock" "$!"
}

serve_stop() {
	local d=$BATS_TEST_TMPDIR pid
	pid=$(cat "$d/serve.pid" 2>/dev/null) || return 0
	kill -CONT "$pid" 2>/dev/null || true
	kill "$pid" 2>/dev/null || true
	# A server started inside run's subshell is nobody's child to reap: a
	# zombie (state Z) has exited.
	while kill -0 "$pid" 2>/dev/null &&
		[ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
		sleep 0.01
	done
	rm -f "$d/serve.pid" "$d/serve.now"
}

# smtp IP COMMAND...: an SMTP session from client IP: EHLO, the commands,
# QUIT, kept in $BATS_TEST_TMPDIR/session. Exim's replies on stdout
# (without the CRs), its log lines on stderr; Exim's exit status.
smtp() {
	local ip=$1 name
	shift
	for name in "${!MACRO[@]}"; do
		printf '%s = %s\n' "$name" "${MACRO[$name]}"
	done >"$BATS_TEST_TMPDIR/exim.conf"
	cat "$HELPERS/exim.conf" >>"$BATS_TEST_TMPDIR/exim.conf"
	chmod 644 "$BATS_TEST_TMPDIR/exim.conf"
	printf '%s\r\n' 'EHLO client.example.org' "$@" QUIT |
		tee "$BATS_TEST_TMPDIR/session" |
		"$EXIM" -C "$BATS_TEST_TMPDIR/exim.conf" "${EXIM_OPTS[@]}" \
		-bh "$ip" | tr -d '\r'
	return "${PIPESTATUS[2]}"
}

# Extra options for Exim in smtp: -oMs NAME sets $sender_host_name as a
# verified host name lookup would.
EXIM_OPTS=()

# rcpt_named SECONDS IP NAME SENDER RCPT [COMMAND...]: MAIL and RCPT from
# client IP whose verified host name is NAME (none when empty), at a
# clock, then the COMMANDs.
rcpt_named() {
	if serving; then
		serve_at "$1" || return
	fi
	EXIM_OPTS=()
	[ -z "$3" ] || EXIM_OPTS=(-oMs "$3")
	GREYLIST_NOW=$1 smtp "$2" "MAIL FROM:<$4>" "RCPT TO:<$5>" "${@:6}"
}

# rcpt_at SECONDS SENDER RCPT [COMMAND...]: MAIL and RCPT from $IP with
# the test clock at SECONDS, then the COMMANDs.
rcpt_at() {
	if serving; then
		serve_at "$1" || return
	fi
	GREYLIST_NOW=$1 smtp "$IP" "MAIL FROM:<$2>" "RCPT TO:<$3>" "${@:4}"
}

# record FILE: greylist is run through t/exim/record-args, which writes
# its arguments to FILE.
record() {
	MACRO[GREYLIST_BIN]="/bin/sh $HELPERS/record-args $1 $GREYLIST_BIN"
}

# argv FILE ARG...: FILE holds exactly the ARGs, each ended by a NUL.
argv() {
	local file=$1
	shift
	printf '%s\0' "$@" >"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$file"
}

# stored T SENDER RCPT: the triplet was stored at T with exactly this
# sender and recipient: a check of it after the embargo is its retry.
stored() {
	run -0 --separate-stderr at $(($1 + EMBARGO)) check --ip="$IP" \
		--sender="$2" --rcpt="$3"
	assert_output "X-Greylist: delayed $EMBARGO seconds"
}

# The three ways a check can fail: no program (no server), no answer
# (a server stopped), exit 2 (an error, with its message in $ERROR).
missing_binary() {
	MACRO[GREYLIST_BIN]=$BATS_TEST_TMPDIR/no-such-greylist
	MACRO[GREYLIST_SOCKET]=$BATS_TEST_TMPDIR/no-such-socket
	MISSING=$(serving && echo 2 || echo 127)
}
# A greylist whose configuration is a FIFO nobody writes: only its own
# watchdog (5 s) ends it; a server that is stopped.
hanging_binary() {
	if serving; then
		serve_at "$T0"
		kill -STOP "$(cat "$BATS_TEST_TMPDIR/serve.pid")"
	else
		mkfifo "$BATS_TEST_TMPDIR/fifo"
		MACRO[GREYLIST_CONF]=$BATS_TEST_TMPDIR/fifo
	fi
}
failing_binary() {
	if serving; then
		bdb_only "the database path of the server"
		printf 'x' >"$BATS_TEST_TMPDIR/file"
		conf "database $BATS_TEST_TMPDIR/file"
		ERROR="greylist: $BATS_TEST_TMPDIR/file"
	else
		conf 'no_such_keyword yes'
		ERROR="greylist: $CONF: line $(wc -l <"$CONF"): "
	fi
}

@test "the first RCPT of a new triplet is deferred with greylist's 451 line" {
	run -0 --separate-stderr rcpt_at "$T0" "$S" "$R"
	assert_line "$DEFER5"
	refute_line '250 Accepted'
}

@test "the defer reply is the program's line, code and all" {
	conf 'reply 450 4.2.0 Wait %s seconds'
	run -0 --separate-stderr rcpt_at "$T0" "$S" "$R"
	assert_line '450 4.2.0 Wait 300 seconds'
}

@test "an early retry is deferred for the time left" {
	run -0 rcpt_at "$T0" "$S" "$R"
	run -0 --separate-stderr rcpt_at $((T0 + 60)) "$S" "$R"
	assert_line "$DEFER4"
}

@test "the same RCPT after the embargo is accepted" {
	run -0 rcpt_at "$T0" "$S" "$R"
	run -0 --separate-stderr rcpt_at $((T0 + EMBARGO)) "$S" "$R"
	assert_line '250 Accepted'
	refute_line --partial '451 '
}

@test "a message accepted after the embargo carries the X-Greylist header" {
	run -0 rcpt_at "$T0" "$S" "$R"
	run -0 --separate-stderr rcpt_at $((T0 + EMBARGO)) "$S" "$R" \
		DATA 'Subject: test' '' 'Hello.' .
	assert_line '250-headers:'
	assert_line '250-X-Greylist: delayed 300 seconds'
	assert_line '250 end of headers'
}

@test "each RCPT of a message gets its own decision" {
	run -0 rcpt_at "$T0" "$S" "$R"
	run -0 --separate-stderr rcpt_at $((T0 + EMBARGO)) "$S" carol@example.net \
		"RCPT TO:<$R>" DATA '' 'Hello.' .
	assert_output --partial $'250 OK\n'"$DEFER5"$'\n250 Accepted\n354 '
	assert_line '250-X-Greylist: delayed 300 seconds'
	# The deferred recipient added no header line, not even an empty one,
	# and logged no failure.
	assert_equal "$(grep -c 'X-Greylist' <<<"$output")" 1
	refute_line '250-'
	refute_line --partial 'greylist check failed'
	refute grep -q '^LOG: .*greylist check failed' <<<"$stderr"
}

@test "the null sender reaches greylist as an empty --sender argument" {
	record "$BATS_TEST_TMPDIR/args"
	run -0 --separate-stderr rcpt_at "$T0" '' "$R"
	assert_line "$DEFER5"
	stored "$T0" '' "$R"
	serving || argv "$BATS_TEST_TMPDIR/args" -c "$CONF" check --ip="$IP" \
		--sender= --rcpt="$R" --helo=client.example.org --host=
}

@test "a sender with spaces, quotes, semicolons and command substitutions reaches greylist byte for byte" {
	local sender=$'"a b\\"c \'d;$(touch x) `touch y`"@Example.org'
	record "$BATS_TEST_TMPDIR/args"
	run -0 --separate-stderr rcpt_at "$T0" "$sender" "$R"
	assert_line "$DEFER5"
	stored "$T0" "$sender" "$R"
	serving && return
	sed -n 's/^MAIL FROM:<\(.*\)>\r$/\1/p' "$BATS_TEST_TMPDIR/session" \
		>"$BATS_TEST_TMPDIR/sent"
	tr '\0' '\n' <"$BATS_TEST_TMPDIR/args" | sed -n 's/^--sender=//p' \
		>"$BATS_TEST_TMPDIR/received"
	cmp "$BATS_TEST_TMPDIR/sent" "$BATS_TEST_TMPDIR/received"
	argv "$BATS_TEST_TMPDIR/args" -c "$CONF" check --ip="$IP" \
		--sender="$sender" --rcpt="$R" --helo=client.example.org --host=
}

@test "a second attempt by a hostile sender passes after the embargo" {
	local sender='"a b\"c;$(x)`y`"@example.org'
	run -0 rcpt_at "$T0" "$sender" "$R"
	run -0 --separate-stderr rcpt_at $((T0 + EMBARGO)) "$sender" "$R"
	assert_line '250 Accepted'
}

@test "without GREYLIST_CONF and GREYLIST_SPF the check gets neither -c nor --spf" {
	serving && skip 'the ${run} stanza'"'"'s argument vector'
	unset 'MACRO[GREYLIST_CONF]'
	MACRO[GREYLIST_BIN]="/bin/sh $HELPERS/record-args $BATS_TEST_TMPDIR/args /bin/true"
	run -0 --separate-stderr rcpt_at "$T0" "$S" "$R"
	argv "$BATS_TEST_TMPDIR/args" check --ip="$IP" --sender="$S" \
		--rcpt="$R" --helo=client.example.org --host=
}

@test "GREYLIST_SPF passes its value as --spf" {
	MACRO[GREYLIST_SPF]='$acl_m_spf'
	MACRO[TEST_SPF_RESULT]=pass
	conf 'spf_bypass yes'
	record "$BATS_TEST_TMPDIR/args"
	run -0 --separate-stderr rcpt_at "$T0" "$S" "$R" DATA '' 'Hello.' .
	assert_line '250 Accepted'
	assert_line '250-X-Greylist: exempt (SPF pass)'
	serving && return
	argv "$BATS_TEST_TMPDIR/args" -c "$CONF" check --ip="$IP" --sender="$S" \
		--rcpt="$R" --helo=client.example.org --host= --spf=pass
}

@test "a missing greylist binary is logged and the recipient accepted" {
	missing_binary
	run -0 --separate-stderr rcpt_at "$T0" "$S" "$R"
	assert_line '250 Accepted'
	assert_regex "$stderr" "LOG: .*greylist check failed \\(exit $MISSING\\), accepting"
}

@test "a greylist that does not answer in time is logged and the recipient accepted" {
	hanging_binary
	SECONDS=0
	run -0 --separate-stderr rcpt_at "$T0" "$S" "$R"
	assert [ "$SECONDS" -lt 8 ]
	assert_line '250 Accepted'
	assert_regex "$stderr" 'LOG: .*greylist check failed \(exit 2\), accepting: greylist: (did not start in time|no answer from the server)'
}

@test "a greylist error (exit 2) is logged with its message and the recipient accepted" {
	failing_binary
	run -0 --separate-stderr rcpt_at "$T0" "$S" "$R"
	assert_line '250 Accepted'
	assert_regex "$stderr" "LOG: .*greylist check failed \\(exit 2\\), accepting: $ERROR"
	assert_regex "$stderr" "; greylist doctor finds why"
}

# fails_closed KIND: greylist fails as KIND_binary (missing, hanging,
# failing) makes it; with GREYLIST_FAIL_CLOSED, Exim defers the
# recipient and logs why.
fails_closed() {
	local code=2
	MACRO[GREYLIST_FAIL_CLOSED]=yes
	"$1"_binary
	[ "$1" != missing ] || code=$MISSING
	run -0 --separate-stderr rcpt_at "$T0" "$S" "$R"
	assert_line "$FAILED"
	refute_line '250 Accepted'
	assert_regex "$stderr" "LOG: .*greylist check failed \\(exit $code\\), deferring"
}

@test "with GREYLIST_FAIL_CLOSED a missing greylist binary defers the recipient" {
	fails_closed missing
}

@test "with GREYLIST_FAIL_CLOSED a hanging greylist defers the recipient" {
	fails_closed hanging
}

@test "with GREYLIST_FAIL_CLOSED a greylist error (exit 2) defers the recipient" {
	fails_closed failing
}

@test "with GREYLIST_FAIL_CLOSED a greylist pass is still accepted" {
	MACRO[GREYLIST_FAIL_CLOSED]=yes
	conf "no_delay $IP"
	run -0 --separate-stderr rcpt_at "$T0" "$S" "$R"
	assert_line '250 Accepted'
}

O1=mail-db5eur01on0044.outbound.protection.outlook.com
O2=mail-eopbgr10051.outbound.protection.outlook.com

@test "the verified host name reaches greylist as --host" {
	record "$BATS_TEST_TMPDIR/args"
	run -0 --separate-stderr rcpt_named "$T0" 40.107.1.5 "$O1" "$S" "$R"
	assert_line "$DEFER5"
	serving || argv "$BATS_TEST_TMPDIR/args" -c "$CONF" check --ip=40.107.1.5 \
		--sender="$S" --rcpt="$R" --helo=client.example.org --host="$O1"
}

@test "a pool's retry from another network with a verified name of the same domain is accepted" {
	run -0 rcpt_named "$T0" 40.107.1.5 "$O1" "$S" "$R"
	run -0 --separate-stderr rcpt_named $((T0 + EMBARGO)) 52.100.9.7 "$O2" \
		"$S" "$R" DATA '' 'Hello.' .
	assert_line '250 Accepted'
	assert_line '250-X-Greylist: delayed 300 seconds (ptr:outlook.com)'
}

@test "without a verified host name the retry from another network is deferred" {
	run -0 rcpt_named "$T0" 40.107.1.5 '' "$S" "$R"
	run -0 --separate-stderr rcpt_named $((T0 + EMBARGO)) 52.100.9.7 '' \
		"$S" "$R"
	assert_line "$DEFER5"
	refute_line '250 Accepted'
}

@test "a generic verified host name falls back to the network" {
	run -0 rcpt_named "$T0" 203.0.113.7 dyn-203-0-113-7.example.net "$S" "$R"
	run -0 --separate-stderr rcpt_named $((T0 + EMBARGO)) 198.51.100.7 \
		dyn-198-51-100-7.example.net "$S" "$R"
	assert_line "$DEFER5"
	run -0 --separate-stderr rcpt_named $((T0 + EMBARGO)) 203.0.113.8 \
		cpe-cb007108.example.net "$S" "$R" DATA '' 'Hello.' .
	assert_line '250-X-Greylist: delayed 300 seconds'
}

# spf_retry RESULT [COMMAND...]: with the SPF result RESULT given through
# GREYLIST_SPF, an RCPT from 198.51.100.7 at T0, then (run) its retry
# from the unrelated 203.0.113.9 after the embargo, and the COMMANDs.
spf_retry() {
	MACRO[GREYLIST_SPF]='$acl_m_spf'
	MACRO[TEST_SPF_RESULT]=$1
	run -0 rcpt_named "$T0" 198.51.100.7 '' "$S" "$R"
	run -0 --separate-stderr rcpt_named $((T0 + EMBARGO)) 203.0.113.9 '' \
		"$S" "$R" "${@:2}"
}

@test "an SPF pass given through GREYLIST_SPF makes two unrelated networks one client" {
	spf_retry pass DATA '' 'Hello.' .
	assert_line '250-X-Greylist: delayed 300 seconds (spf:example.org)'
}

@test "an SPF fail given through GREYLIST_SPF leaves the retry from another network deferred" {
	spf_retry fail
	assert_line "$DEFER5"
}
