#!/usr/bin/env bats
# The admin commands through the real binary and database: list, stats,
# pass, delete, exempt, spam, and who may use a database (DESIGN.md
# sections 2 and 6). Every expected value is derived from the clocks the
# test chose for its checks.

load test_helper

export TZ=UTC

HEADER='state,network,sender,recipient,first_seen,last_seen,passed_at,blocked,passes,expires'

teardown() {
	open_dir_remove
}

# iso SECONDS: the local ISO 8601 time list prints for an epoch time.
iso() {
	date -d "@$1" +%Y-%m-%dT%H:%M:%S%z
}

# parse_csv: CSV on stdin, read by Python's csv module; one line per row,
# each field followed by a unit separator (US, 0x1f), so that commas,
# quotes and empty fields come back exactly as the module parsed them.
parse_csv() {
	python3 -c '
import csv, io, sys
out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
for row in csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8",
                                       newline="")):
    out.write("".join(f + "\x1f" for f in row) + "\n")
'
}

# csv_list CLOCK [FILTERS...]: list --csv at CLOCK exits 0 with the header
# row; ROWS holds the data rows as parse_csv wrote them.
csv_list() {
	run --separate-stderr -0 at "$1" list --csv "${@:2}"
	assert_equal "$stderr" ''
	mapfile -t ROWS < <(printf '%s\n' "$output" | parse_csv)
	assert_equal "${ROWS[0]}" "$(printf '%s\x1f' ${HEADER//,/ })"
	ROWS=("${ROWS[@]:1}")
}

# keys: the state, network, sender and recipient of each row of ROWS,
# one "state|network|sender|recipient" line per row, sorted.
keys() {
	local row f
	for row in "${ROWS[@]}"; do
		IFS=$'\x1f' read -r -a f <<<"$row"
		printf '%s|%s|%s|%s\n' "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}"
	done | sort
}

# assert_row STATE NETWORK SENDER RCPT FIRST LAST PASSED BLOCKED PASSES
# EXPIRES: exactly one row of ROWS has this state, network, sender and
# recipient, it has ten fields, and each of them is as given.
assert_row() {
	local names=(state network sender recipient first_seen last_seen
	    passed_at blocked passes expires)
	local want=("$@") row f found=() n=0 i
	for row in "${ROWS[@]}"; do
		IFS=$'\x1f' read -r -a f <<<"$row"
		if [ "${f[0]}" = "$1" ] && [ "${f[1]}" = "$2" ] &&
		    [ "${f[2]}" = "$3" ] && [ "${f[3]}" = "$4" ]; then
			found=("${f[@]}")
			n=$((n + 1))
		fi
	done
	assert_equal "rows for $1 $2 $3 $4: $n" "rows for $1 $2 $3 $4: 1"
	assert_equal "fields: ${#found[@]}" "fields: 10"
	for i in "${!names[@]}"; do
		assert_equal "${names[i]}=${found[i]}" "${names[i]}=${want[i]}"
	done
}

# fixture: three pending triplets seen at T0 (P1 192.0.2.1 alice -> bob,
# P3 192.0.2.1 alice -> frank, P2 198.51.100.1 dave@example.com -> bob),
# and erin@example.org -> carol from 203.0.113.5, new at T0 - 300 and
# passed at T0, with its tuplet (203.0.113.0/24, example.org).
fixture() {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org bob@example.net
	run -1 check_at "$T0" 192.0.2.1 alice@example.org frank@example.net
	run -1 check_at "$T0" 198.51.100.1 dave@example.com Bob+x@example.net
	check_pass "$T0" 203.0.113.5 erin@example.org carol@example.net
}

P1='pending|192.0.2.0/24|alice@example.org|bob@example.net'
P3='pending|192.0.2.0/24|alice@example.org|frank@example.net'
P2='pending|198.51.100.0/24|dave@example.com|bob@example.net'
PASSED='passed|203.0.113.0/24|erin@example.org|carol@example.net'
TUPLET='whitelisted|203.0.113.0/24|@example.org|*'

# sorted LINE...: the given lines, sorted, as keys prints them.
sorted() {
	printf '%s\n' "$@" | sort
}

# ---- list: table ----

@test "list prints a table with a header and one line per entry" {
	fixture
	run --separate-stderr -0 at $((T0 + 60)) list
	assert_equal "$stderr" ''
	assert_regex "${lines[0]}" '^STATE +NETWORK +SENDER +RECIPIENT +FIRST_SEEN +LAST_SEEN +PASSED_AT +BLOCKED +PASSES +EXPIRES *$'
	assert_equal "${#lines[@]}" 6
	assert_equal "$(grep -c '^pending ' <<<"$output")" 3
	assert_equal "$(grep -c '^passed .*erin@example.org  *carol@example.net ' <<<"$output")" 1
	assert_equal "$(grep -c '^whitelisted .*@example.org ' <<<"$output")" 1
	assert_equal "$(grep -c ' alice@example.org  *frank@example.net ' <<<"$output")" 1
}

@test "the list table aligns each column under its header" {
	fixture
	run --separate-stderr -0 at $((T0 + 60)) list
	local col pre off line
	for col in NETWORK SENDER RECIPIENT FIRST_SEEN; do
		pre=${lines[0]%%"$col"*}
		off=${#pre}
		for line in "${lines[@]:1}"; do
			assert_equal "${line:off-1:1}" ' '
			assert_regex "${line:off:1}" '[^ ]'
		done
	done
	local p1
	p1=$(grep ' bob@example.net ' <<<"$output" | grep alice)
	pre=${lines[0]%%FIRST_SEEN*}
	assert_equal "${p1:${#pre}:24}" "$(iso "$T0")"
}

@test "the list table aligns columns after a UTF-8 sender by characters" {
	run -1 check_at "$T0" 192.0.2.1 jöran@exämple.org r@example.net
	run -1 check_at "$T0" 192.0.2.1 bob@example.org r@example.net
	run --separate-stderr -0 at "$T0" list
	# The recipient starts under RECIPIENT on every line, counting
	# characters as a terminal shows them, not bytes.
	run -0 python3 -c '
import sys
rows = sys.stdin.buffer.read().decode("utf-8").splitlines()
col = rows[0].index("RECIPIENT")
for row in rows[1:]:
    print(row[col:col + 13])
' <<<"$output"
	assert_output $'r@example.net\nr@example.net'
}

# ---- list --csv: fields ----

@test "list --csv writes the header row and every field of a pending triplet" {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org bob@example.net
	run -1 check_at $((T0 + 60)) 192.0.2.1 alice@example.org bob@example.net
	csv_list $((T0 + 120))
	assert_equal "${#ROWS[@]}" 1
	assert_row pending 192.0.2.0/24 alice@example.org bob@example.net \
	    "$(iso "$T0")" "$(iso $((T0 + 60)))" '' 2 0 \
	    "$(iso $((T0 + RETRY_WINDOW)))"
}

@test "list writes times as local ISO 8601" {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org bob@example.net
	csv_list "$T0"
	assert_row pending 192.0.2.0/24 alice@example.org bob@example.net \
	    2023-11-14T22:13:20+0000 2023-11-14T22:13:20+0000 '' 1 0 \
	    2023-11-16T02:13:20+0000
}

@test "list --csv gives every field of a passed triplet and its tuplet" {
	check_pass "$T0" 192.0.2.1 alice@example.org carol@example.net
	run -0 check_at $((T0 + 3600)) 192.0.2.1 alice@example.org carol@example.net
	assert_output 'X-Greylist: auto-whitelisted (passed before)'
	csv_list $((T0 + 3700))
	assert_equal "${#ROWS[@]}" 2
	assert_row passed 192.0.2.0/24 alice@example.org carol@example.net \
	    "$(iso $((T0 - EMBARGO)))" "$(iso $((T0 + 3600)))" "$(iso "$T0")" \
	    1 2 "$(iso $((T0 + 3600 + LIFETIME)))"
	assert_row whitelisted 192.0.2.0/24 @example.org '*' \
	    "$(iso "$T0")" "$(iso $((T0 + 3600)))" '' '' 2 \
	    "$(iso $((T0 + 3600 + LIFETIME)))"
}

@test "list shows the null sender as <> in its triplet and its tuplet" {
	check_pass "$T0" 192.0.2.1 '' bob@example.net
	csv_list "$T0"
	assert_row passed 192.0.2.0/24 '<>' bob@example.net \
	    "$(iso $((T0 - EMBARGO)))" "$(iso "$T0")" "$(iso "$T0")" 1 1 \
	    "$(iso $((T0 + LIFETIME)))"
	assert_row whitelisted 192.0.2.0/24 '<>' '*' \
	    "$(iso "$T0")" "$(iso "$T0")" '' '' 1 "$(iso $((T0 + LIFETIME)))"
}

@test "list --csv gives stored exemptions with only the entry and when it was added" {
	run -0 at $((T0 + 10)) exempt add @example.com 10.
	csv_list $((T0 + 20))
	assert_equal "${#ROWS[@]}" 2
	assert_row exempt '' @example.com '' "$(iso $((T0 + 10)))" '' '' '' '' ''
	assert_row no_delay 10.0.0.0/8 '' '' "$(iso $((T0 + 10)))" '' '' '' '' ''
}

@test "list --csv quotes senders holding a comma, a double quote or UTF-8 exactly" {
	local s1='"a,b"@example.org' s2='a"b@example.org' s3='jöran@exämple.org'
	local s
	for s in "$s1" "$s2" "$s3"; do
		run -1 check_at "$T0" 192.0.2.1 "$s" 'x,y@example.net'
	done
	csv_list "$T0"
	assert_equal "${#ROWS[@]}" 3
	for s in "$s1" "$s2" "$s3"; do
		assert_row pending 192.0.2.0/24 "$s" 'x,y@example.net' \
		    "$(iso "$T0")" "$(iso "$T0")" '' 1 0 \
		    "$(iso $((T0 + RETRY_WINDOW)))"
	done
}

@test "list --csv keeps UTF-8 in a recipient and lower-cases only ASCII" {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org 'Åsa+news@Exämple.NET'
	csv_list "$T0"
	assert_equal "$(keys)" 'pending|192.0.2.0/24|alice@example.org|Åsa@exämple.net'
}

# ---- list: filters ----

@test "list --state lists only entries in that state" {
	fixture
	csv_list $((T0 + 60)) --state=pending
	assert_equal "$(keys)" "$(sorted "$P1" "$P2" "$P3")"
	csv_list $((T0 + 60)) --state=passed
	assert_equal "$(keys)" "$PASSED"
	csv_list $((T0 + 60)) --state=whitelisted
	assert_equal "$(keys)" "$TUPLET"
}

@test "list --ip lists the entries of the network holding that address" {
	fixture
	csv_list $((T0 + 60)) --ip=203.0.113.77
	assert_equal "$(keys)" "$(sorted "$PASSED" "$TUPLET")"
	csv_list $((T0 + 60)) --ip=192.0.2.200
	assert_equal "$(keys)" "$(sorted "$P1" "$P3")"
}

@test "list --ip lists a stored no_delay network holding that address" {
	run -0 at "$T0" exempt add 10.
	run -0 at "$T0" exempt add 198.51.100.0/24
	csv_list "$T0" --ip=10.9.8.7
	assert_equal "$(keys)" 'no_delay|10.0.0.0/8||'
}

@test "list --sender lists only that normalised sender's triplets, not its domain's tuplet" {
	fixture
	csv_list $((T0 + 60)) '--sender=<Alice@Example.ORG>'
	assert_equal "$(keys)" "$(sorted "$P1" "$P3")"
}

@test "list --rcpt normalises the address and its +detail" {
	fixture
	csv_list $((T0 + 60)) --rcpt=Bob+lists@Example.NET
	assert_equal "$(keys)" "$(sorted "$P1" "$P2")"
}

@test "list --domain lists triplets and the tuplet of that sender domain" {
	fixture
	csv_list $((T0 + 60)) --domain=EXAMPLE.org
	assert_equal "$(keys)" "$(sorted "$P1" "$P3" "$PASSED" "$TUPLET")"
}

@test "list with several filters lists only entries matching all of them" {
	fixture
	csv_list $((T0 + 60)) --state=pending --rcpt=bob@example.net --domain=example.com
	assert_equal "$(keys)" "$P2"
}

@test "list exits 1 and prints nothing when no entry matches" {
	fixture
	run -1 at $((T0 + 60)) list --sender=nobody@nowhere.example
	assert_output ''
	run -1 at $((T0 + 60)) list --csv --ip=10.1.2.3
	assert_output ''
}

@test "list exits 1 and prints nothing on an empty database" {
	run -1 at "$T0" list
	assert_output ''
}

# ---- stats ----

# stats_fixture: a known sequence of decisions at chosen clocks: three
# triplets passed after 300, 400 and 1000 seconds, one of them passed
# again and its network used by another sender, a fourth one pending,
# and passes by a stored exempt domain and a stored no_delay address.
stats_fixture() {
	run -1 check_at "$T0" 192.0.2.1 a@one.example r@example.net
	run -1 check_at "$T0" 198.51.100.1 b@two.example r@example.net
	run -1 check_at "$T0" 203.0.113.1 c@three.example r@example.net
	run -1 check_at $((T0 + 60)) 192.0.2.1 a@one.example r@example.net
	run -0 check_at $((T0 + 300)) 192.0.2.1 a@one.example r@example.net
	run -0 check_at $((T0 + 400)) 198.51.100.1 b@two.example r@example.net
	run -0 check_at $((T0 + 1000)) 203.0.113.1 c@three.example r@example.net
	run -0 check_at $((T0 + 1100)) 192.0.2.1 a@one.example r@example.net
	assert_output 'X-Greylist: auto-whitelisted (passed before)'
	run -0 check_at $((T0 + 1200)) 192.0.2.9 z@one.example s@example.net
	assert_output 'X-Greylist: auto-whitelisted (192.0.2.0/24, one.example)'
	run -1 check_at $((T0 + 1300)) 192.0.2.44 d@four.example r@example.net
	run -0 at $((T0 + 1300)) exempt add @exempt.example
	run -0 at $((T0 + 1300)) exempt add 10.1.2.3
	run -0 check_at $((T0 + 1400)) 192.0.2.50 x@exempt.example r@example.net
	run -0 check_at $((T0 + 1500)) 10.1.2.3 y@five.example r@example.net
}

STATS_WANT='pending 1
passed 3
whitelisted 3
exempt 1
no_delay 1
deferred 5
passed_delay 3
passed_awl 1
passed_known 1
exempt_passes 2
opted_out 0
personal_whitelist 0
median_delay 400
whitelisted_spf 0
whitelisted_ptr 0'

@test "stats counts entries by state, decisions, and the median delay" {
	stats_fixture
	run --separate-stderr -0 at $((T0 + 1600)) stats
	assert_equal "$stderr" ''
	assert_equal "${#lines[@]}" 15
	local line
	for line in "${lines[@]}"; do
		assert_regex "$line" '^[a-z_]+ +[0-9]+$'
	done
	assert_equal "$(awk '{ print $1, $2 }' <<<"$output")" "$STATS_WANT"
}

@test "stats --csv gives the same rows under a name,value header" {
	stats_fixture
	run --separate-stderr -0 at $((T0 + 1600)) stats --csv
	assert_equal "$stderr" ''
	local want
	want=$(printf 'name value\n%s' "$STATS_WANT" | tr ' ' '\037' | sed 's/$/\x1f/')
	assert_equal "$(printf '%s\n' "$output" | parse_csv)" "$want"
}

@test "stats on an empty database shows zeros" {
	run --separate-stderr -0 at "$T0" stats
	assert_equal "$(awk '{ print $1, $2 }' <<<"$output")" "$(sed 's/ [0-9]*$/ 0/' <<<"$STATS_WANT")"
}

# ---- pass ----

@test "pass creates a passed triplet that the next check lets through" {
	run --separate-stderr -0 at "$T0" pass --ip=192.0.2.1 --sender=alice@example.org --rcpt=bob@example.net
	assert_reply 'passed 192.0.2.0/24 alice@example.org bob@example.net'
	run -0 --separate-stderr check_at $((T0 + 60)) 192.0.2.1 alice@example.org bob@example.net
	assert_reply 'X-Greylist: auto-whitelisted (passed before)'
}

@test "pass prints the triplet normalised" {
	run --separate-stderr -0 at "$T0" pass --ip=192.0.2.1 '--sender=<Alice@Example.ORG>' --rcpt=Bob+x@Example.NET
	assert_reply 'passed 192.0.2.0/24 alice@example.org bob@example.net'
}

@test "pass auto-whitelists the network and sender domain for another recipient" {
	run -0 at "$T0" pass --ip=192.0.2.1 --sender=alice@example.org --rcpt=bob@example.net
	run -0 --separate-stderr check_at $((T0 + 60)) 192.0.2.77 dave@example.org erin@example.com
	assert_reply 'X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
}

@test "pass marks a pending triplet passed and keeps its first-seen time" {
	run -1 check_at "$T0" 192.0.2.1 alice@example.org bob@example.net
	run -0 at $((T0 + 30)) pass --ip=192.0.2.1 --sender=alice@example.org --rcpt=bob@example.net
	csv_list $((T0 + 40)) --state=passed
	assert_row passed 192.0.2.0/24 alice@example.org bob@example.net \
	    "$(iso "$T0")" "$(iso $((T0 + 30)))" "$(iso $((T0 + 30)))" 1 1 \
	    "$(iso $((T0 + 30 + LIFETIME)))"
	run -0 --separate-stderr check_at $((T0 + 60)) 192.0.2.1 alice@example.org bob@example.net
	assert_reply 'X-Greylist: auto-whitelisted (passed before)'
}

@test "pass without a recipient is an error and stores nothing" {
	run --separate-stderr -2 at "$T0" pass --ip=192.0.2.1 --sender=alice@example.org
	assert_error
	run -1 at "$T0" list
}

# ---- delete ----

# deleted SELECTORS COUNT LEFT: on the fixture, delete with SELECTORS
# (split at spaces) at T0 + 30 says it deleted COUNT, and list then shows
# the entries LEFT names (P1, P2, P3, PASSED, TUPLET).
deleted() {
	local name left=()
	fixture
	# shellcheck disable=SC2086
	run --separate-stderr -0 at $((T0 + 30)) delete $1
	assert_reply "deleted $2"
	csv_list $((T0 + 30))
	for name in $3; do
		left+=("${!name}")
	done
	assert_equal "$(keys)" "$(sorted "${left[@]}")"
}

@test "delete --sender removes that sender's triplets and not its domain's tuplet" {
	deleted '--sender=<Alice@Example.ORG>' 2 'P2 PASSED TUPLET'
	check_gives $((T0 + 60)) 1 "$DEFER5" 192.0.2.1 alice@example.org bob@example.net
	check_gives $((T0 + 60)) 1 "$DEFER4" 198.51.100.1 dave@example.com bob@example.net
}

@test "delete --ip removes the network's triplets and its tuplet" {
	deleted --ip=203.0.113.200 2 'P1 P2 P3'
	check_gives $((T0 + 60)) 1 "$DEFER5" 203.0.113.5 erin@example.org carol@example.net
	check_gives $((T0 + 60)) 1 "$DEFER5" 203.0.113.6 erin@example.org zoe@example.net
}

@test "delete removes the entries its selectors match, and only those" {
	each_row deleted "
	delete --state=pending removes only the pending triplets|--state=pending|3|PASSED TUPLET
	delete --rcpt normalises the recipient and its +detail|--rcpt=Bob+old@EXAMPLE.NET|2|P3 PASSED TUPLET
	delete --domain removes the domain's triplets and tuplets|--domain=Example.ORG|4|P2
	delete with several selectors removes only entries matching all of them|--state=pending --domain=example.org|2|P2 PASSED TUPLET
	"
}

@test "delete without a selector is an error and deletes nothing" {
	fixture
	run --separate-stderr -2 at $((T0 + 30)) delete
	assert_error
	csv_list $((T0 + 30))
	assert_equal "${#ROWS[@]}" 5
}

@test "delete --sender of an unknown sender at a whitelisted domain deletes nothing" {
	fixture
	run --separate-stderr -1 at $((T0 + 30)) delete --sender=nobody@example.org
	assert_reply 'deleted 0'
	run -0 --separate-stderr check_at $((T0 + 60)) 203.0.113.9 zoe@example.org yan@example.net
	assert_reply 'X-Greylist: auto-whitelisted (203.0.113.0/24, example.org)'
}

@test "delete exits 1 when nothing matches" {
	fixture
	run --separate-stderr -1 at $((T0 + 30)) delete --sender=nobody@nowhere.example
	assert_reply 'deleted 0'
	csv_list $((T0 + 30))
	assert_equal "${#ROWS[@]}" 5
}

@test "delete leaves stored exemptions alone" {
	fixture
	run -0 at "$T0" exempt add @example.org alice@example.org
	run -0 at $((T0 + 30)) delete --domain=example.org
	assert_output 'deleted 4'
	run --separate-stderr -0 at $((T0 + 30)) exempt list
	assert_output $'@example.org\nalice@example.org'
}

# ---- exempt ----

# exempt_added ENTRY STORED IP SENDER REASON IP2 SENDER2: exempt add ENTRY
# stores STORED, which exempt list shows; then a check from IP SENDER
# passes as exempt (REASON), and one from IP2 SENDER2 is greylisted.
exempt_added() {
	run --separate-stderr -0 at "$T0" exempt add "$1"
	assert_reply "added $2"
	run --separate-stderr -0 at "$T0" exempt list
	assert_reply "$2"
	run -0 --separate-stderr check_at "$T0" "$3" "$4" r@example.net
	assert_reply "X-Greylist: exempt ($5)"
	run -1 --separate-stderr check_at "$T0" "$6" "$7" r@example.net
	assert_reply "$DEFER5"
}

@test "exempt add stores each kind of entry normalised and check passes what it covers" {
	each_row exempt_added "
	exempt add stores a sender address normalised and check passes it|<Bob@Example.COM>|bob@example.com|192.0.2.1|BOB@example.com|sender bob@example.com|192.0.2.1|carol@example.com
	exempt add stores an @domain and check passes any sender there|@Example.COM|@example.com|192.0.2.1|carol@example.com|sender @example.com|192.0.2.1|carol@example.org
	exempt add stores an IP as a single-address network and check passes it|198.51.100.7|198.51.100.7/32|198.51.100.7|a@example.org|no_delay 198.51.100.7/32|198.51.100.8|a@example.org
	exempt add stores a CIDR and check passes a client inside it|2001:db8::/32|2001:db8::/32|2001:db8:5::1|a@example.org|no_delay 2001:db8::/32|2001:db9::1|a@example.org
	exempt add stores a dotted prefix as its network and check passes a client inside it|192.168.|192.168.0.0/16|192.168.44.5|a@example.org|no_delay 192.168.0.0/16|192.169.0.1|a@example.org
	"
}

@test "a stored exemption uses the configured header" {
	conf 'header X-Grey'
	run -0 at "$T0" exempt add @example.com
	run -0 --separate-stderr check_at "$T0" 192.0.2.1 carol@example.com r@example.net
	assert_reply 'X-Grey: exempt (sender @example.com)'
}

@test "exempt add of an existing entry succeeds and keeps one entry" {
	run -0 at "$T0" exempt add @example.com
	run --separate-stderr -0 at $((T0 + 10)) exempt add @EXAMPLE.com
	assert_reply 'added @example.com'
	run --separate-stderr -0 at $((T0 + 10)) exempt list
	assert_reply '@example.com'
}

@test "exempt list prints sender entries then networks, each sorted" {
	run -0 at "$T0" exempt add 2001:db8::/32 zed@example.org 198.51.100.7 @example.org
	run -0 at "$T0" exempt add 10. alice@example.com 192.168.
	run --separate-stderr -0 at "$T0" exempt list
	assert_equal "$stderr" ''
	assert_output "$(printf '%s\n' @example.org alice@example.com zed@example.org \
	    10.0.0.0/8 192.168.0.0/16 198.51.100.7/32 2001:db8::/32)"
}

@test "exempt list exits 1 when there are no stored exemptions" {
	run -1 at "$T0" exempt list
	assert_output ''
}

@test "exempt del removes an entry and check greylists again" {
	run -0 at "$T0" exempt add @example.com 198.51.100.0/24
	run --separate-stderr -0 at "$T0" exempt del @Example.com
	assert_reply 'deleted @example.com'
	run --separate-stderr -0 at "$T0" exempt del 198.51.100.0/24
	assert_reply 'deleted 198.51.100.0/24'
	run -1 at "$T0" exempt list
	run -1 --separate-stderr check_at "$T0" 198.51.100.1 carol@example.com r@example.net
	assert_reply "$DEFER5"
}

@test "exempt del of a dotted prefix removes the network it stands for" {
	run -0 at "$T0" exempt add 10.0.0.0/8
	run --separate-stderr -0 at "$T0" exempt del 10.
	assert_reply 'deleted 10.0.0.0/8'
	run -1 at "$T0" exempt list
}

@test "exempt del exits 1 when none of the entries existed" {
	run -0 at "$T0" exempt add @example.com
	run -1 at "$T0" exempt del @example.org 10.1.2.3
	run --separate-stderr -0 at "$T0" exempt list
	assert_reply '@example.com'
}

@test "exempt del exits 0 when one of the entries existed" {
	run -0 at "$T0" exempt add @example.com
	run --separate-stderr -0 at "$T0" exempt del @example.org @example.com
	assert_output --partial 'deleted @example.com'
	run -1 at "$T0" exempt list
}

@test "exempt add with a bad CIDR is an error and adds nothing" {
	run -0 at "$T0" exempt add @example.com
	run --separate-stderr -2 at "$T0" exempt add carol@example.org 192.0.2.0/33
	assert_error
	run --separate-stderr -0 at "$T0" exempt list
	assert_reply '@example.com'
}

@test "exempt add with a control character is an error and adds nothing" {
	run --separate-stderr -2 at "$T0" exempt add 10.1.2.3 $'evil\001@example.com'
	assert_error
	run -1 at "$T0" exempt list
}

@test "exempt del with a bad entry is an error and deletes nothing" {
	run -0 at "$T0" exempt add @example.com
	run --separate-stderr -2 at "$T0" exempt del @example.com 300.1.2.0/24
	assert_error
	run --separate-stderr -0 at "$T0" exempt list
	assert_reply '@example.com'
}

@test "exempt with an unknown action is an error" {
	run --separate-stderr -2 at "$T0" exempt frob @example.com
	assert_error
	run -1 at "$T0" exempt list
}

# ---- spam ----

# spam_fixture: four triplets, all new at T0 - 300 and passed at T0 (each
# retry is due, so each passes as delayed even where a tuplet exists):
# A 192.0.2.1 alice@example.org -> bob and B 192.0.2.2 carol@example.org
# -> dave (network 192.0.2.0/24, domain example.org, one tuplet);
# C 198.51.100.1 alice@example.org -> bob (another network);
# D 192.0.2.1 erin@example.com -> bob (another domain).
spam_fixture() {
	local t all=('192.0.2.1 alice@example.org bob@example.net'
	    '192.0.2.2 carol@example.org dave@example.net'
	    '198.51.100.1 alice@example.org bob@example.net'
	    '192.0.2.1 erin@example.com bob@example.net')
	for t in "${all[@]}"; do
		# shellcheck disable=SC2086
		run -1 check_at $((T0 - EMBARGO)) $t
	done
	for t in "${all[@]}"; do
		# shellcheck disable=SC2086
		check_gives "$T0" 0 'X-Greylist: delayed 300 seconds' $t
	done
}

@test "spam revokes the tuplet and passed triplets of that network and domain" {
	local t=$((T0 + 120))
	spam_fixture
	run --separate-stderr -0 at $((T0 + 60)) spam --ip=192.0.2.99 --sender=Mallory@Example.ORG
	assert_reply 'revoked 3'
	check_gives "$t" 1 "$DEFER5" 192.0.2.1 alice@example.org bob@example.net
	check_gives "$t" 1 "$DEFER5" 192.0.2.2 carol@example.org dave@example.net
	check_gives "$t" 1 "$DEFER5" 192.0.2.3 zoe@example.org yan@example.net
}

@test "spam leaves other networks and other sender domains whitelisted" {
	local t=$((T0 + 120)) awl='X-Greylist: auto-whitelisted'
	spam_fixture
	run -0 at $((T0 + 60)) spam --ip=192.0.2.99 --sender=mallory@example.org
	check_gives "$t" 0 "$awl (passed before)" 198.51.100.1 alice@example.org bob@example.net
	check_gives "$t" 0 "$awl (198.51.100.0/24, example.org)" 198.51.100.9 zoe@example.org yan@example.net
	check_gives "$t" 0 "$awl (passed before)" 192.0.2.1 erin@example.com bob@example.net
	check_gives "$t" 0 "$awl (192.0.2.0/24, example.com)" 192.0.2.9 zoe@example.com yan@example.net
}

@test "spam exits 0 when nothing was whitelisted" {
	run --separate-stderr -0 at "$T0" spam --ip=192.0.2.1 --sender=mallory@example.org
	assert_reply 'revoked 0'
}

# ---- privileges ----

# Admin commands refused to users outside admin_group in a setgid
# install: t/priv.bats, with real users and a setgid binary.

@test "without setgid an unprivileged user cannot use a root-owned database" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run commands as nobody"
	command -v setpriv >/dev/null || skip "setpriv not installed"
	open_dir
	check_pass "$T0" 192.0.2.1 alice@example.org bob@example.net
	run -0 at "$T0" exempt add @example.com
	local before
	before=$(at "$T0" list --csv)

	local cmd
	for cmd in list stats purge 'exempt list' 'exempt add @example.net' \
	    'delete --sender=alice@example.org' \
	    'pass --ip=198.51.100.1 --sender=a@example.org --rcpt=b@example.net' \
	    'spam --ip=192.0.2.1 --sender=alice@example.org'; do
		# shellcheck disable=SC2086
		run --separate-stderr -2 as_nobody $cmd
		assert_error
		assert_regex "$stderr" '[Pp]ermission denied'
		assert [ "${stderr/"$DB"/}" != "$stderr" ]
	done
	assert_equal "$(at "$T0" list --csv)" "$before"
}
