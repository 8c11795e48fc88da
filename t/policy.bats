#!/usr/bin/env bats
# greylist policy: the Postfix policy delegation protocol on stdin and
# stdout. Decisions equal check's; everything it cannot use gets DUNNO and
# the process goes on. A policy process reads GREYLIST_NOW once, so each
# clock gets its own process.

load test_helper

PDEFER5='DEFER_IF_PERMIT 4.7.1 Greylisted, please retry later retry=00:05:00'

# replies ACTION...: the bytes of these replies, in order.
replies() {
	printf 'action=%s\n\n' "$@"
}

# assert_replies ACTION...: after run, stdout is exactly these replies.
assert_replies() {
	assert_equal "$output" "$(replies "$@")"
}

# session SECONDS: starts a policy process at a clock that reads what the
# test writes to fd 7 and writes its replies to fd 8 (read them with
# answer); $PID is its process id.
session() {
	mkfifo "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	# fd 3 is bats' own: the background process must not hold it.
	policy_at "$1" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 3>&- &
	PID=$!
	exec 7>"$BATS_TEST_TMPDIR/in" 8<"$BATS_TEST_TMPDIR/out"
}

# answer: prints the next reply's action line, after checking that the
# empty line follows it; waits for it (never more than 10 s).
answer() {
	local a b
	read -r -t 10 -u 8 a && read -r -t 10 -u 8 b && [ -z "$b" ] &&
		printf '%s\n' "$a"
}

# session_end: ends the input and checks that the process exits 0.
session_end() {
	local st=0
	exec 7>&-
	wait "$PID" || st=$?
	exec 8<&-
	assert_equal "$st" 0
}

@test "a new triplet gets DEFER_IF_PERMIT with the reply's text, bytes exact" {
	rcpt "$IP" "$S" "$R" | policy_at "$T0" >"$BATS_TEST_TMPDIR/out"
	replies "$PDEFER5" >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/want"
}

@test "a retry after the embargo gets PREPEND with check's header line" {
	run -0 --separate-stderr policy_at "$T0" < <(rcpt "$IP" "$S" "$R")
	assert_replies "$PDEFER5"
	assert_equal "$stderr" ''
	run -0 --separate-stderr policy_at $((T0 + 60)) < <(rcpt "$IP" "$S" "$R")
	assert_replies 'DEFER_IF_PERMIT 4.7.1 Greylisted, please retry later retry=00:04:00'
	run -0 --separate-stderr policy_at $((T0 + EMBARGO)) < <(
		rcpt "$IP" "$S" "$R"
		rcpt "$IP" "$S" carol@example.net
		rcpt "$IP" "$S" "$R")
	assert_replies 'PREPEND X-Greylist: delayed 300 seconds' \
		'PREPEND X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)' \
		'PREPEND X-Greylist: auto-whitelisted (passed before)'
	assert_equal "$stderr" ''
}

@test "policy and check share the database and decide alike" {
	run -0 policy_at "$T0" < <(rcpt "$IP" "$S" "$R")
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
	run -1 check_at "$T0" 198.51.100.7 "$S" "$R"
	run -0 policy_at $((T0 + 1)) < <(rcpt 198.51.100.7 "$S" "$R")
	assert_replies 'DEFER_IF_PERMIT 4.7.1 Greylisted, please retry later retry=00:04:59'
}

# named IP SENDER RCPT CLIENT_NAME [REVERSE_NAME]: an RCPT request from a
# client whose verified name Postfix gives as CLIENT_NAME ("unknown" when
# not verified) and its unverified PTR name as REVERSE_NAME.
named() {
	rcpt "$1" "$2" "$3" | sed -e "s/^client_name=.*/client_name=$4/" \
		-e "s/^reverse_client_name=.*/reverse_client_name=${5:-$4}/"
}

O1=mail-db5eur01on0044.outbound.protection.outlook.com
O2=mail-eopbgr10051.outbound.protection.outlook.com

@test "client_name gives the ptr identity: a pool's retry from another network passes" {
	run -0 policy_at "$T0" < <(named 40.107.1.5 "$S" "$R" "$O1")
	assert_replies "$PDEFER5"
	run -0 --separate-stderr policy_at $((T0 + EMBARGO)) < <(
		named 52.100.9.7 "$S" "$R" "$O2"
		named 104.47.1.9 "$S" carol@example.net "$O2")
	assert_replies 'PREPEND X-Greylist: delayed 300 seconds (ptr:outlook.com)' \
		'PREPEND X-Greylist: auto-whitelisted (ptr:outlook.com, example.org)'
	assert_equal "$stderr" ''
}

@test "client_name=unknown and reverse_client_name are not trusted: the retry from another network waits" {
	run -0 policy_at "$T0" < <(named 40.107.1.5 "$S" "$R" unknown "$O1")
	run -0 --separate-stderr policy_at $((T0 + EMBARGO)) < <(
		named 52.100.9.7 "$S" "$R" unknown "$O2")
	assert_replies "$PDEFER5"
}

@test "a generic client_name falls back to the network" {
	run -0 policy_at "$T0" < <(named 203.0.113.7 "$S" "$R" dyn-203-0-113-7.example.net)
	run -0 --separate-stderr policy_at $((T0 + EMBARGO)) < <(
		named 198.51.100.7 "$S" "$R" dyn-198-51-100-7.example.net
		named 203.0.113.8 "$S" "$R" dyn-203-0-113-8.example.net)
	assert_replies "$PDEFER5" 'PREPEND X-Greylist: delayed 300 seconds'
}

@test "policy and check with --host share the ptr identity" {
	run -0 policy_at "$T0" < <(named 40.107.1.5 "$S" "$R" "$O1")
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) 52.100.9.7 "$S" "$R" \
		--host="$O2"
	assert_reply 'X-Greylist: delayed 300 seconds (ptr:outlook.com)'
}

@test "several requests in one stream are answered one by one, in order" {
	conf 'no_delay 10.1.2.' 'exempt @lists.example.com'
	run -0 --separate-stderr policy_at "$T0" < <(
		rcpt "$IP" "$S" "$R"
		rcpt 10.1.2.3 "$S" "$R"
		rcpt 2001:db8::1 "" "$R"
		rcpt 198.51.100.1 news@lists.example.com "$R"
		rcpt "$IP" "$S" "$R")
	assert_replies "$PDEFER5" \
		'PREPEND X-Greylist: exempt (no_delay 10.1.2.)' \
		"$PDEFER5" \
		'PREPEND X-Greylist: exempt (sender @lists.example.com)' \
		"$PDEFER5"
	assert_equal "$stderr" ''
}

@test "the reply template's text and the header name come from the config" {
	conf 'reply 450 4.2.0 Slow down, try again in %s s' 'header X-Grey'
	run -0 policy_at "$T0" < <(rcpt "$IP" "$S" "$R")
	assert_replies 'DEFER_IF_PERMIT 4.2.0 Slow down, try again in 300 s'
	run -0 policy_at $((T0 + EMBARGO)) < <(rcpt "$IP" "$S" "$R")
	assert_replies 'PREPEND X-Grey: delayed 300 seconds'
}

@test "stages other than RCPT get DUNNO and store nothing" {
	run -0 --separate-stderr policy_at "$T0" < <(
		for st in CONNECT EHLO HELO MAIL DATA END-OF-MESSAGE VRFY ETRN; do
			req "$st" "$IP" "$S" "$R"
		done)
	assert_replies DUNNO DUNNO DUNNO DUNNO DUNNO DUNNO DUNNO DUNNO
	assert_equal "$stderr" ''
	run -1 check_at "$T0" "$IP" "$S" "$R"
	assert_output "$DEFER5"
}

@test "requests missing what a decision needs get DUNNO, logged, and the next is answered" {
	run -0 --separate-stderr policy_at "$T0" -v < <(
		rcpt "$IP" "$S" "$R" | grep -v '^recipient='
		rcpt "$IP" "$S" "$R" | grep -v '^sender='
		rcpt "$IP" "$S" "$R" | grep -v '^client_address='
		rcpt "$IP" "$S" "$R" | grep -v '^protocol_state='
		rcpt "$IP" "$S" "$R" | sed 's/^request=.*/request=junk/'
		rcpt "$IP" "$S" "$R")
	assert_replies DUNNO DUNNO DUNNO DUNNO DUNNO "$PDEFER5"
	assert_equal "${stderr_lines[0]}" 'greylist: policy: cannot use the request: no recipient'
	assert_equal "${stderr_lines[1]}" 'greylist: policy: cannot use the request: no sender'
	assert_equal "${stderr_lines[2]}" 'greylist: policy: cannot use the request: no client_address'
	assert_equal "${stderr_lines[3]}" 'greylist: policy: cannot use the request: no protocol_state'
	assert_equal "${stderr_lines[4]}" 'greylist: policy: cannot use the request: not request=smtpd_access_policy'
	assert_equal "${#stderr_lines[@]}" 6
}

@test "values check would refuse get DUNNO, named by attribute, and the process goes on" {
	run -0 --separate-stderr policy_at "$T0" -v < <(
		rcpt 192.0.2.300 "$S" "$R"
		rcpt "$IP" "$S" ''
		rcpt "$IP" "$(printf 'a%.0s' {1..600})@example.org" "$R"
		rcpt "$IP" "$S" "$R")
	assert_replies DUNNO DUNNO DUNNO "$PDEFER5"
	assert_equal "${stderr_lines[0]}" 'greylist: policy: cannot use the request: malformed client_address'
	assert_equal "${stderr_lines[1]}" 'greylist: policy: cannot use the request: recipient: empty'
	assert_equal "${stderr_lines[2]}" 'greylist: policy: cannot use the request: sender: longer than 512 bytes'
}

@test "each decision is logged like check's, with Postfix's instance" {
	run -0 --separate-stderr policy_at "$T0" -v < <(rcpt "$IP" "<Alice@Example.ORG>" "Bob+x@example.net")
	assert_replies "$PDEFER5"
	assert_equal "$stderr" 'greylist: defer: client=192.0.2.0/24 sender=alice@example.org rcpt=bob@example.net reason=new retry=300 instance=1a2b.655a1b00.c3d4e.0'
}

@test "garbage and binary bytes get DUNNO and the next good request is answered" {
	run -0 --separate-stderr policy_at "$T0" -v < <(
		printf 'hello there\n\n'
		printf '\x00\x01\x02\xff\xfe=\x7f\n\n'
		printf '=novalue\nrequest=smtpd_access_policy\n\n'
		printf 'request=smtpd_access_policy\nrequest=smtpd_access_policy\n\n'
		printf '\n'
		head -c 3000 /dev/urandom | tr -d '\n'; printf '\n\n'
		rcpt "$IP" "$S" "$R")
	assert_replies DUNNO DUNNO DUNNO DUNNO DUNNO DUNNO "$PDEFER5"
	assert_equal "${stderr_lines[0]}" 'greylist: policy: malformed request: line 1 is not name=value'
	assert_equal "${stderr_lines[1]}" 'greylist: policy: malformed request: NUL byte in line 1'
	assert_equal "${stderr_lines[2]}" 'greylist: policy: malformed request: line 1 is not name=value'
	assert_equal "${stderr_lines[3]}" 'greylist: policy: malformed request: request given twice'
	assert_equal "${stderr_lines[4]}" 'greylist: policy: malformed request: empty request'
}

@test "an oversized attribute (100 KB) gets DUNNO and the next request works" {
	run -0 --separate-stderr policy_at "$T0" -v < <(
		rcpt "$IP" "$S" "$R" | sed "s/^helo_name=.*/helo_name=$(head -c 102400 /dev/zero | tr '\0' h)/"
		rcpt "$IP" "$S" "$R")
	assert_replies DUNNO "$PDEFER5"
	assert_equal "${stderr_lines[0]}" 'greylist: policy: malformed request: line longer than 4096 bytes'
	# The oversized request decided nothing: the second was new.
	assert_equal "${#stderr_lines[@]}" 2
}

@test "a line of exactly 4096 bytes is accepted and one of 4097 is not" {
	local v4090 v4091
	v4090=$(head -c 4086 /dev/zero | tr '\0' h)	# "helo_name=" + 4086
	v4091=$(head -c 4087 /dev/zero | tr '\0' h)
	run -0 policy_at "$T0" < <(
		rcpt "$IP" "$S" "$R" | sed "s/^helo_name=.*/helo_name=$v4090/"
		rcpt 198.51.100.1 "$S" "$R" | sed "s/^helo_name=.*/helo_name=$v4091/")
	assert_replies "$PDEFER5" DUNNO
}

@test "more than 100 attributes get DUNNO" {
	run -0 policy_at "$T0" < <(
		rcpt "$IP" "$S" "$R" | sed '/^$/d'
		for i in {1..80}; do printf 'x_%d=%d\n' "$i" "$i"; done
		printf '\n'
		rcpt "$IP" "$S" "$R")
	assert_replies DUNNO "$PDEFER5"
}

@test "a request split across many writes is read whole" {
	pieces() {
		printf 'request=smtpd'
		printf '_access_policy\nprotocol_state=RC'
		printf 'PT\nclient_address=192.0.2.1\n'
		printf 'sender=alice@example.org\nrecip'
		printf 'ient=bob@example.net'
		printf '\n'
		printf '\n'
		printf 'request=smtpd_access_policy\nprotocol_state=RCPT\n'
		printf 'client_address=192.0.2.1\nsender=alice@example.org\n'
		printf 'recipient=carol@example.net\n\nrequest=smtpd_acc'
	}
	run -0 --separate-stderr policy_at "$T0" < <(pieces)
	assert_replies "$PDEFER5" "$PDEFER5"
}

@test "CR before LF is accepted" {
	run -0 policy_at "$T0" < <(rcpt "$IP" "$S" "$R" | sed 's/$/\r/')
	assert_replies "$PDEFER5"
}

@test "end of input ends the process with 0, even inside a request" {
	run -0 --separate-stderr policy_at "$T0" </dev/null
	assert_output ''
	assert_equal "$stderr" ''
	run -0 --separate-stderr policy_at "$T0" -v < <(
		rcpt "$IP" "$S" "$R"; rcpt "$IP" "$S" "$R" | head -3)
	assert_replies "$PDEFER5"
	assert_equal "${stderr_lines[1]}" 'greylist: policy: input ended inside a request; not answered'
}

@test "policy takes no arguments" {
	run -2 --separate-stderr gl policy extra </dev/null
	assert_error
}

@test "with stderr on the same pipe as stdout, nothing but replies is written" {
	# As under spawn(8), where both are the client's socket.
	run -0 policy_at "$T0" -v < <(printf 'junk\n\n'; rcpt "$IP" "$S" "$R")
	assert_replies DUNNO "$PDEFER5"
}

@test "a database that cannot be used gets DUNNO, and exemptions still pass" {
	if [ -n "${GREYLIST_TEST_REDIS:-}" ]; then
		conf "redis_server unix:$BATS_TEST_TMPDIR/nobody.sock"
	else
		printf 'not a directory\n' >"$DB"
	fi
	conf 'no_delay 10.'
	run -0 --separate-stderr policy_at "$T0" -v < <(
		rcpt "$IP" "$S" "$R"
		rcpt 10.0.0.1 "$S" "$R"
		rcpt "$IP" "$S" "$R")
	assert_replies DUNNO 'PREPEND X-Greylist: exempt (no_delay 10.)' DUNNO
	assert_regex "${stderr_lines[0]}" '^greylist: policy: .'
	assert_regex "${stderr_lines[1]}" '^greylist: policy: not counted: .'
	assert_regex "${stderr_lines[2]}" '^greylist: pass: client=10.0.0.0/24 .* reason=no_delay'
	assert_regex "${stderr_lines[3]}" '^greylist: policy: .'
	assert_equal "${#stderr_lines[@]}" 4
	[ -n "${GREYLIST_TEST_REDIS:-}" ] ||
		assert_equal "${stderr_lines[0]}" "greylist: policy: failing open: $DB: not a directory (greylist doctor finds the cause)"
}

@test "a database busy beyond the timeout gets DUNNO within the bound and the process goes on" {
	bdb_only "the flock on DIR/lock"
	run -1 check_at "$T0" "$IP" "$S" "$R"
	cp "$CONF" "$BATS_TEST_TMPDIR/short.conf"
	printf 'timeout 200ms\n' >>"$BATS_TEST_TMPDIR/short.conf"
	run -0 --separate-stderr flock -o -x "$DB/lock" \
		env GREYLIST_NOW="$T0" "$GREYLIST_BIN" \
		-c "$BATS_TEST_TMPDIR/short.conf" -v policy \
		< <(rcpt 198.51.100.1 "$S" "$R"; rcpt 198.51.100.2 "$S" "$R")
	assert_replies DUNNO DUNNO
	assert_regex "${stderr_lines[0]}" '^greylist: policy: .*busy'
	run -0 policy_at "$T0" < <(rcpt 198.51.100.1 "$S" "$R")
	assert_replies "$PDEFER5"
}

@test "a request stuck in the database past the timeout gets DUNNO, exit 2 and a recovery mark" {
	hang_ready
	run -1 check_at "$T0" "$IP" "$S" "$R"
	cp "$CONF" "$BATS_TEST_TMPDIR/short.conf"
	printf 'timeout 300ms\n' >>"$BATS_TEST_TMPDIR/short.conf"
	run -2 --separate-stderr hung -c "$BATS_TEST_TMPDIR/short.conf" policy < <(
		rcpt 198.51.100.1 "$S" "$R"; rcpt 198.51.100.2 "$S" "$R")
	assert_replies DUNNO
	assert_equal "$stderr" 'greylist: policy: database did not answer in time; failing open'
	assert [ -e "$DB/recover" ]
	# The next process recovers the store, with nothing lost.
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "${DEFER}00:04:00"
	assert [ ! -e "$DB/recover" ]
}

@test "1,000 generated requests get the decisions check makes on the same triplets" {
	python3 - "$BATS_TEST_TMPDIR" <<-'PY'
	import random, sys
	d = sys.argv[1]
	rnd = random.Random(7)
	nets = ["192.0.2.%d", "198.51.100.%d", "203.0.113.%d", "10.9.8.%d",
	    "2001:db8::%x", "::ffff:192.0.2.%d"]
	senders = ["alice@example.org", "Bob@Example.ORG", "", "<carol@example.com>",
	    "bounce-%d@lists.example.net", "prvs=1234abcd=dave@example.com",
	    "émile@exemple.fr", "x" * 600 + "@example.org"]
	rcpts = ["u%d@example.net", "U%d+tag@Example.NET", "", "<v%d@example.net>"]
	for part in (0, 1):
	    with open("%s/stream%d" % (d, part), "w", encoding="utf-8") as s, \
	         open("%s/triplets%d" % (d, part), "w", encoding="utf-8") as t:
	        for i in range(500):
	            ip = rnd.choice(nets) % rnd.randrange(1, 40)
	            if rnd.random() < 0.02:
	                ip = "192.0.2.%d" % rnd.randrange(256, 999)
	            snd = rnd.choice(senders)
	            if "%d" in snd:
	                snd = snd % rnd.randrange(5)
	            rc = rnd.choice(rcpts)
	            if "%d" in rc:
	                rc = rc % rnd.randrange(12)
	            state = "RCPT" if rnd.random() < 0.95 else rnd.choice(["MAIL", "DATA"])
	            s.write("request=smtpd_access_policy\nprotocol_state=%s\n"
	                "client_address=%s\nhelo_name=h%d\nsender=%s\nrecipient=%s\n"
	                "instance=%x.0\n\n" % (state, ip, i, snd, rc, i))
	            t.write("\x1f".join([state, ip, snd, rc]) + "\n")
	PY
	local part when state ip snd rc line code
	# Generous bounds: a loaded machine must not turn a decision into a
	# timeout on one side only.
	conf 'timeout 20s'
	[ -z "${GREYLIST_TEST_REDIS:-}" ] || conf 'redis_timeout 20s'
	CONF2=$BATS_TEST_TMPDIR/check.conf
	printf 'database %s\ntimeout 20s\n' "$BATS_TEST_TMPDIR/db2" >"$CONF2"
	: >"$BATS_TEST_TMPDIR/want"
	: >"$BATS_TEST_TMPDIR/got"
	for part in 0 1; do
		when=$((T0 + part * 400))
		policy_at "$when" <"$BATS_TEST_TMPDIR/stream$part" |
			grep -v '^$' >>"$BATS_TEST_TMPDIR/got"
		while IFS=$'\x1f' read -r state ip snd rc; do
			if [ "$state" != RCPT ]; then
				echo 'action=DUNNO'
				continue
			fi
			code=0
			line=$(GREYLIST_NOW=$when "$GREYLIST_BIN" -c "$CONF2" check \
				--ip="$ip" --sender="$snd" --rcpt="$rc" 2>/dev/null) || code=$?
			case $code in
			0) echo "action=PREPEND $line" ;;
			1) echo "action=DEFER_IF_PERMIT ${line#* }" ;;
			*) echo 'action=DUNNO' ;;
			esac
		done <"$BATS_TEST_TMPDIR/triplets$part" >>"$BATS_TEST_TMPDIR/want"
	done
	run -0 wc -l <"$BATS_TEST_TMPDIR/got"
	assert_output 1000
	# Every kind of answer occurs.
	run -0 grep -c '^action=DEFER_IF_PERMIT' "$BATS_TEST_TMPDIR/got"
	run -0 grep -c '^action=PREPEND X-Greylist: delayed' "$BATS_TEST_TMPDIR/got"
	run -0 grep -c '^action=PREPEND X-Greylist: auto-whitelisted' "$BATS_TEST_TMPDIR/got"
	run -0 grep -c '^action=DUNNO' "$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "a request whose first part came with the previous one's read is answered when its end arrives" {
	session "$T0"
	# One write (under PIPE_BUF, so atomic) holds a whole request and the
	# start of the next: once the first is answered, both were read.
	printf '%s' "$(rcpt "$IP" "$S" "$R")"$'\n\nrequest=smtpd_access_policy\nprotocol_st' >&7
	run -0 answer
	assert_output "action=$PDEFER5"
	printf 'ate=RCPT\nclient_address=192.0.2.9\nsender=%s\nrecip' "$S" >&7
	printf 'ient=carol@example.net\n' >&7
	printf '\n' >&7
	run -0 answer
	assert_output "action=$PDEFER5"
	session_end
}

@test "an oversized line split across reads is skipped to its end" {
	local long
	long=$(head -c 9000 /dev/zero | tr '\0' h)
	session "$T0"
	printf '%s' "$(rcpt "$IP" "$S" "$R")"$'\n\nrequest=smtpd_access_policy\nhelo_name='"${long:0:3000}" >&7
	run -0 answer
	assert_output "action=$PDEFER5"
	printf '%s' "${long:3000}" >&7
	printf '%s\n\n' "$(rcpt 198.51.100.1 "$S" "$R")" >&7
	run -0 answer
	assert_output 'action=DUNNO'
	printf '%s\n\n' "$(rcpt 198.51.100.1 "$S" "$R")" >&7
	run -0 answer
	assert_output "action=$PDEFER5"
	session_end
}

@test "a policy process waiting for its next request does not hold up another's recovery" {
	bdb_only "DIR/lock and DIR/recover"
	conf 'timeout 5s'	# the check below waits for the policy process
	session "$T0"
	rcpt "$IP" "$S" "$R" >&7
	run -0 answer
	assert_output "action=$PDEFER5"
	# It keeps the store (and so the shared lock) open while idle...
	run -1 flock -n -x "$DB/lock" true
	# ...and lets it go when a process asks for recovery.
	touch "$DB/recover"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "${DEFER}00:04:00"
	assert [ ! -e "$DB/recover" ]
	# The next requests reopen the recovered store.
	rcpt "$IP" "$S" carol@example.net >&7
	rcpt "$IP" "$S" "$R" >&7
	run -0 answer
	assert_output "action=$PDEFER5"
	run -0 answer
	assert_output "action=$PDEFER5"
	session_end
}
