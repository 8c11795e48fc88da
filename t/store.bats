#!/usr/bin/env bats
# The Berkeley DB store under concurrency, crashes and foreign files.

load test_helper

# redumped OLD NEW: the database (db5.3_dump, db5.3_load) with its stored
# value OLD (hex) replaced by NEW.
redumped() {
	db5.3_dump -h "$DB" greylist.db >"$BATS_TEST_TMPDIR/dump"
	sed -i "s/^ $1\$/ $2/" "$BATS_TEST_TMPDIR/dump"
	grep -q "^ $2\$" "$BATS_TEST_TMPDIR/dump"
	db5.3_load -h "$DB" -f "$BATS_TEST_TMPDIR/dump" greylist.db
}

@test "parallel checks on distinct triplets are all remembered" {
	conf 'timeout 10s'	# the bound is another test's; this one is about memory
	local i
	for i in $(seq 1 48); do
		(
			rc=0
			check_at $T0 192.0.2.$i s$i@example.org r@example.net \
				>"$BATS_TEST_TMPDIR/out.$i" || rc=$?
			echo $rc >"$BATS_TEST_TMPDIR/rc.$i"
		) &
	done
	wait
	for i in $(seq 1 48); do
		assert_equal "$(cat "$BATS_TEST_TMPDIR/rc.$i")" 1
		assert_equal "$(cat "$BATS_TEST_TMPDIR/out.$i")" "$DEFER5"
	done
	for i in $(seq 1 48); do
		remembered $((T0 + 60)) 192.0.2.$i s$i@example.org r@example.net
	done
}

@test "parallel retries of one triplet pass it exactly once" {
	conf 'timeout 10s'
	run -1 check_at $T0 192.0.2.1 a@example.org b@example.net
	local i
	for i in $(seq 1 32); do
		(check_at $((T0 + 400)) 192.0.2.1 a@example.org b@example.net \
			>"$BATS_TEST_TMPDIR/out.$i") &
	done
	wait

	run -0 bash -c "cat '$BATS_TEST_TMPDIR'/out.* | grep -c 'delayed 400 seconds'"
	assert_output 1
	run -0 bash -c "cat '$BATS_TEST_TMPDIR'/out.* | grep -c 'auto-whitelisted (passed before)'"
	assert_output 31
}

@test "writers killed at random moments lose no entry whose check returned" {
	command -v db5.3_verify >/dev/null || skip "db5.3_verify not installed (db5.3-util)"
	run -1 check_at $T0 192.0.2.1 a@example.org b@example.net
	local w
	for w in 1 2 3 4; do
		(
			# Most calls are killed 0.5 to 5 ms after they start; every
			# tenth runs to its end, so that a call meets what the
			# kills left and its watchdog marks the store.
			for j in $(seq 1 100); do
				k=0.00$(printf %02d $(( (RANDOM % 45) + 5 )))
				[ $((j % 10)) -ne 0 ] || k=20
				if GREYLIST_NOW=$T0 timeout -s KILL $k \
					"$GREYLIST_BIN" -c "$CONF" check --ip=10.$w.0.$j \
					--sender=s$j@example.org --rcpt=r$w@example.net >/dev/null 2>&1
				then :; elif [ $? -eq 1 ]; then
					echo "$w $j" >>"$BATS_TEST_TMPDIR/returned"
				fi
			done
		) &
	done
	wait
	# Whatever the kills left, the database answers: at worst the first
	# caller meets a lock held by a dead process, fails open on its
	# timeout and marks the store, and the next one recovers it.
	run timeout 10 "$GREYLIST_BIN" -c "$CONF" check --ip=192.0.2.200 \
		--sender=x@example.org --rcpt=y@example.org
	assert [ "$status" -eq 1 -o "$status" -eq 2 ]
	remembered $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	run -0 db5.3_verify -h "$DB" greylist.db
	assert [ -s "$BATS_TEST_TMPDIR/returned" ]
	local n=0
	while read -r w j; do
		remembered $((T0 + 60)) 10.$w.0.$j s$j@example.org r$w@example.net
		n=$((n + 1))
	done <"$BATS_TEST_TMPDIR/returned"
	assert [ "$n" -gt 0 ]
}

@test "a check that cannot get the database within its timeout fails open" {
	run -1 check_at $T0 192.0.2.1 a@example.org b@example.net
	conf 'timeout 200ms'
	run --separate-stderr -2 flock -x "$DB/lock" env GREYLIST_NOW=$T0 \
		"$GREYLIST_BIN" -c "$CONF" check --ip=192.0.2.1 \
		--sender=a@example.org --rcpt=b@example.net
	assert_error
	assert_regex "$stderr" 'busy|did not answer'
	remembered $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
}

@test "a store marked for recovery is recovered by the next check with nothing lost" {
	run -1 check_at $T0 192.0.2.1 a@example.org b@example.net
	touch "$DB/recover"
	remembered $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	assert [ ! -e "$DB/recover" ]
	run -1 check_at $((T0 + 120)) 192.0.2.1 a@example.org b@example.net
	assert_output "${DEFER}00:03:00"
}

@test "a database from a newer format version is refused and left alone" {
	command -v db5.3_dump >/dev/null || skip "db5.3_dump not installed (db5.3-util)"
	run -1 check_at $T0 192.0.2.1 a@example.org b@example.net
	# The meta key "V" (hex 56) holds version 2, kind V, flags, format.
	redumped 0256000000000001 0256000000000063
	local before
	before=$(db5.3_dump -h "$DB" greylist.db | md5sum)
	run --separate-stderr -2 check_at $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	assert_error
	assert_regex "$stderr" 'format 99 is newer'
	assert_equal "$(db5.3_dump -h "$DB" greylist.db | md5sum)" "$before"
}

@test "a record written by a newer greylist is refused, not misread" {
	command -v db5.3_dump >/dev/null || skip "db5.3_dump not installed (db5.3-util)"
	run -1 check_at $T0 192.0.2.1 a@example.org b@example.net
	redumped 0256000000000001 0356000000000001
	run --separate-stderr -2 check_at $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	assert_error
	assert_regex "$stderr" 'newer'
}

# policy_requests N: N RCPT requests for new triplets, as Postfix writes them.
policy_requests() {
	python3 -c '
import sys
w = sys.stdout.write
for i in range(int(sys.argv[1])):
    w("request=smtpd_access_policy\nprotocol_state=RCPT\n"
      "client_address=10.%d.%d.1\nsender=s%d@example.org\n"
      "recipient=r@example.net\n\n" % (i // 256 % 256, i % 256, i))
' "$1"
}

# logs: the numbers of the log files in the database directory.
logs() {
	ls "$DB" | sed -n 's/^log\.0*//p' | sort -n | tr '\n' ' '
}

@test "the MTA's processes leave checkpoints to long runs until the log reaches 16 files" {
	# policy stands for check: one process, many commits; 6,000 new
	# triplets write about 2 MB of log, and no checkpoint removes any
	policy_requests 6000 >"$BATS_TEST_TMPDIR/req"
	GREYLIST_NOW=$T0 "$GREYLIST_BIN" -c "$CONF" policy \
		<"$BATS_TEST_TMPDIR/req" >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(grep -c '^action=DEFER_IF_PERMIT' "$BATS_TEST_TMPDIR/out")" 6000
	run logs
	assert_output --regexp '^1 2 3 '
	# an admin command is a long run: it checkpoints as it closes, and
	# the log files before the checkpoint go
	run -0 at "$T0" stats
	run logs
	refute_output --regexp '(^| )1 '
	# past 16 log files the MTA's processes take the checkpoint themselves
	policy_requests 60000 >"$BATS_TEST_TMPDIR/req"
	GREYLIST_NOW=$((T0 + 1)) "$GREYLIST_BIN" -c "$CONF" policy \
		<"$BATS_TEST_TMPDIR/req" >/dev/null
	run logs
	local n=(${output})
	[ "${n[-1]}" -gt 17 ] || fail "only log files $output were written"
	[ "${#n[@]}" -le 17 ] || fail "no checkpoint: log files $output"
	# and nothing was lost
	run -1 --separate-stderr check_at $((T0 + 60)) 10.0.5.1 s5@example.org r@example.net
	assert_reply "$DEFER4"
}

@test "the database directory is created group-only and setgid, so that its files keep its group" {
	run -1 check_at $T0 192.0.2.1 a@example.org b@example.net
	assert_equal "$(stat -c %a "$DB")" 2770
	assert_equal "$(stat -c %a "$DB/greylist.db")" 660
	assert_equal "$(stat -c %a "$DB/lock")" 660
}
