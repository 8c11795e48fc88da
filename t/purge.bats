#!/usr/bin/env bats
# greylist purge: expired entries go, everything else stays, and checks
# running meanwhile lose nothing (DESIGN.md section 7). Expiry: a pending
# triplet at first + retry_window, a passed triplet and a tuplet at last
# use + whitelist_lifetime; an entry whose expiry equals now stays.

load test_helper

export TZ=UTC

NOTHING='purged 0 pending, 0 passed, 0 whitelisted'

# remaining CLOCK: "state|network|sender|recipient" of every entry that list
# shows at CLOCK, sorted; nothing when the database is empty.
remaining() {
	at "$1" list --csv | python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))[1:]
for r in sorted(rows):
    print("|".join(r[0:4]))
'
}

@test "purge removes a pending triplet whose retry window has passed" {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org bob@example.net
	run --separate-stderr -0 at $((T0 + RETRY_WINDOW + 1)) purge
	assert_reply 'purged 1 pending, 0 passed, 0 whitelisted'
	run -1 at $((T0 + RETRY_WINDOW + 1)) list
	assert_output ''
}

@test "purge keeps a pending triplet whose expiry equals now" {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org bob@example.net
	run --separate-stderr -0 at $((T0 + RETRY_WINDOW)) purge
	assert_reply "$NOTHING"
	assert_equal "$(remaining $((T0 + RETRY_WINDOW)))" \
	    'pending|192.0.2.0/24|alice@example.org|bob@example.net'
}

@test "purge keeps a pending triplet one second before its expiry" {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org bob@example.net
	run --separate-stderr -0 at $((T0 + RETRY_WINDOW - 1)) purge
	assert_reply "$NOTHING"
	assert_equal "$(remaining $((T0 + RETRY_WINDOW - 1)))" \
	    'pending|192.0.2.0/24|alice@example.org|bob@example.net'
}

@test "purge counts a pending triplet's age from first seen, not its last retry" {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org bob@example.net
	run -1 check_at $((T0 + 200)) 192.0.2.1 alice@example.org bob@example.net
	run --separate-stderr -0 at $((T0 + RETRY_WINDOW + 1)) purge
	assert_reply 'purged 1 pending, 0 passed, 0 whitelisted'
}

@test "purge removes a passed triplet and its tuplet after their lifetime" {
	check_pass "$T0" 192.0.2.1 alice@example.org bob@example.net
	run --separate-stderr -0 at $((T0 + LIFETIME + 1)) purge
	assert_reply 'purged 0 pending, 1 passed, 1 whitelisted'
	run -1 at $((T0 + LIFETIME + 1)) list
	assert_output ''
}

@test "purge keeps a passed triplet and its tuplet whose expiry equals now" {
	check_pass "$T0" 192.0.2.1 alice@example.org bob@example.net
	run --separate-stderr -0 at $((T0 + LIFETIME)) purge
	assert_reply "$NOTHING"
	assert_equal "$(remaining $((T0 + LIFETIME)))" \
	    "$(printf '%s\n' 'passed|192.0.2.0/24|alice@example.org|bob@example.net' \
	    'whitelisted|192.0.2.0/24|@example.org|*')"
}

@test "purge keeps a passed triplet and its tuplet one second before their expiry" {
	check_pass "$T0" 192.0.2.1 alice@example.org bob@example.net
	run --separate-stderr -0 at $((T0 + LIFETIME - 1)) purge
	assert_reply "$NOTHING"
	assert_equal "$(remaining $((T0 + LIFETIME - 1)))" \
	    "$(printf '%s\n' 'passed|192.0.2.0/24|alice@example.org|bob@example.net' \
	    'whitelisted|192.0.2.0/24|@example.org|*')"
}

@test "purge counts a passed triplet's lifetime from its last use" {
	local t1=$((T0 + 86400))
	check_pass "$T0" 192.0.2.1 alice@example.org bob@example.net
	run -0 check_at "$t1" 192.0.2.1 alice@example.org bob@example.net
	assert_output 'X-Greylist: auto-whitelisted (passed before)'
	run --separate-stderr -0 at $((T0 + LIFETIME + 1)) purge
	assert_reply "$NOTHING"
	run --separate-stderr -0 at $((t1 + LIFETIME + 1)) purge
	assert_reply 'purged 0 pending, 1 passed, 1 whitelisted'
}

@test "purge removes a passed triplet but keeps its tuplet used since by another recipient" {
	check_pass "$T0" 192.0.2.1 alice@example.org bob@example.net
	run -0 check_at $((T0 + 86400)) 192.0.2.7 alice@example.org carol@example.net
	assert_output 'X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
	run --separate-stderr -0 at $((T0 + LIFETIME + 1)) purge
	assert_reply 'purged 0 pending, 1 passed, 0 whitelisted'
	assert_equal "$(remaining $((T0 + LIFETIME + 1)))" 'whitelisted|192.0.2.0/24|@example.org|*'
}

# mixed NOW: entries around the expiry boundaries of a purge at NOW: one
# of each kind just expired, at the boundary, or fresh, and a stored
# exemption from long before.
mixed() {
	local now=$1
	run -0 at "$T0" exempt add @exempt.example 10.
	run -1 check_at $((now - RETRY_WINDOW - 1)) 192.0.2.1 old@example.org r@example.net
	run -1 check_at $((now - RETRY_WINDOW)) 192.0.2.1 edge@example.org r@example.net
	run -1 check_at $((now - 10)) 192.0.2.1 new@example.org r@example.net
	check_pass $((now - LIFETIME - 1)) 198.51.100.1 old@example.com r@example.net
	check_pass $((now - LIFETIME)) 203.0.113.1 edge@example.com r@example.net
}

MIXED_LEFT='exempt||@exempt.example|
no_delay|10.0.0.0/8||
passed|203.0.113.0/24|edge@example.com|r@example.net
pending|192.0.2.0/24|edge@example.org|r@example.net
pending|192.0.2.0/24|new@example.org|r@example.net
whitelisted|203.0.113.0/24|@example.com|*'

@test "purge removes exactly the expired entries of a mixed database" {
	local now=$((T0 + LIFETIME + 1000))
	mixed "$now"
	run --separate-stderr -0 at "$now" purge
	assert_reply 'purged 1 pending, 1 passed, 1 whitelisted'
	assert_equal "$(remaining "$now")" "$MIXED_LEFT"
}

@test "purge --dry-run reports the same counts and removes nothing" {
	local now=$((T0 + LIFETIME + 1000)) before
	mixed "$now"
	before=$(at "$now" list --csv)
	run --separate-stderr -0 at "$now" purge --dry-run
	assert_reply 'would purge 1 pending, 1 passed, 1 whitelisted'
	assert_equal "$(at "$now" list --csv)" "$before"
	run --separate-stderr -0 at "$now" purge
	assert_reply 'purged 1 pending, 1 passed, 1 whitelisted'
}

@test "purge on a new database purges nothing" {
	run --separate-stderr -0 at "$T0" purge
	assert_reply "$NOTHING"
}

@test "purge on an emptied database purges nothing" {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org bob@example.net
	run -0 at $((T0 + RETRY_WINDOW + 1)) purge
	run --separate-stderr -0 at $((T0 + RETRY_WINDOW + 2)) purge
	assert_reply "$NOTHING"
}

@test "purge keeps stored exemptions and the decision counters" {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org bob@example.net
	run -0 at "$T0" exempt add @example.com 10.
	local later=$((T0 + 10 * 365 * 86400))
	run --separate-stderr -0 at "$later" purge
	assert_reply 'purged 1 pending, 0 passed, 0 whitelisted'
	run -0 at "$later" exempt list
	assert_output $'@example.com\n10.0.0.0/8'
	run -0 at "$later" stats --csv
	assert_line 'deferred,1'
}

# prefill N CLOCK: N passed triplets and N/3 tuplets, all last used at
# CLOCK, in networks 10.x.y.0/24 (imported as export writes them).
prefill() {
	local n=$1 t=$2
	python3 - "$n" "$t" >"$BATS_TEST_TMPDIR/prefill.csv" <<-'EOF'
	import sys
	n, t = int(sys.argv[1]), int(sys.argv[2])
	print("type,network,sender,recipient,domain,entry,first_seen,"
	      "last_seen,passed_at,blocked,passes,count")
	for i in range(n):
	    net = "10.%d.%d.0/24" % (i // 256, i % 256)
	    print("triplet,%s,s%d@example.org,r@example.net,,,%d,%d,%d,1,1,"
	          % (net, i, t - 300, t, t))
	    if i % 3 == 0:
	        print("tuplet,%s,,,example.org,,%d,%d,,,1," % (net, t, t))
	EOF
	run --separate-stderr -0 gl import "$BATS_TEST_TMPDIR/prefill.csv"
	assert_reply "imported $((n + (n + 2) / 3)) entries"
}

# purge_and_mark DIR: creates DIR/purging, purges at T0, then creates
# DIR/purged whatever happened.
purge_and_mark() {
	local rc=0
	touch "$1/purging"
	at "$T0" purge || rc=$?
	touch "$1/purged"
	return "$rc"
}

@test "purge running beside parallel checks loses no new triplet" {
	local m=24000 w d=$BATS_TEST_TMPDIR
	# A slow (sanitized, loaded) machine must not make this a test of
	# the fail-open bound: it is about losing nothing.
	conf 'timeout 10s'
	prefill "$m" $((T0 - LIFETIME - 1))
	# Eight loops check new triplets at T0 until the purge is over (at
	# least 20 each), noting each check's status and reply, and counting
	# the checks that ended while the purge ran.
	for w in 1 2 3 4 5 6 7 8; do
		(
			j=0
			while [ "$j" -lt 20 ] || { [ ! -e "$d/purged" ] && [ "$j" -lt 3000 ]; }; do
				j=$((j + 1))
				rc=0
				check_at "$T0" 172.16.$w.1 c$j@example.com r$w@example.net \
					>"$d/out.$w" || rc=$?
				echo "$w $j $rc $(cat "$d/out.$w")" >>"$d/checks.$w"
				if [ -e "$d/purging" ] && [ ! -e "$d/purged" ]; then
					echo "$w $j" >>"$d/during"
				fi
			done
		) &
	done
	run --separate-stderr -0 purge_and_mark "$d"
	wait
	assert_reply "purged 0 pending, $m passed, $(((m + 2) / 3)) whitelisted"

	local n=0
	cat "$d"/checks.* >"$d/checks"
	# Every check answered as a new triplet: none waited past its timeout.
	run -0 awk '$3 != 1 || $0 !~ /retry=00:05:00$/' "$d/checks"
	assert_output ''
	while read -r -u 3 w j _; do
		remembered $((T0 + 60)) 172.16.$w.1 c$j@example.com r$w@example.net
		n=$((n + 1))
	done 3<"$d/checks"
	assert [ "$n" -ge 160 ]
	assert [ -s "$d/during" ]
	run -1 at "$T0" list --state=passed
	run -1 at "$T0" list --state=whitelisted
}
