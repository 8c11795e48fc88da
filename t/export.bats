#!/usr/bin/env bats
# export and import through the real binary and database: the CSV export
# writes, its round trip, the checks import makes before it writes
# anything, merge and --replace, and the import of a postgrey database.
# Every expected value is derived from the clocks the test chose.

load test_helper

export TZ=UTC

# counters DEFERRED DELAY AWL KNOWN EXEMPT: the eight counter rows export
# ends with (opted_out, personal_whitelist and spare are 0).
counters() {
	printf 'counter,,,,,%s,,,,,,%s\n' deferred "$1" passed_delay "$2" \
	    passed_awl "$3" passed_known "$4" exempt "$5" opted_out 0 \
	    personal_whitelist 0 spare 0
}

# rows LINE...: the expected export, the header then the given lines.
rows() {
	printf '%s\n' "$EXPORT_HEADER" "$@"
}

# other_db: a second, empty database for the same config, in DB2; gl2
# runs the binary on it.
other_db() {
	DB2=$BATS_TEST_TMPDIR/db2
	CONF2=$BATS_TEST_TMPDIR/greylist2.conf
	cp "$CONF" "$CONF2"
	if [ -n "${GREYLIST_TEST_REDIS:-}" ]; then
		echo "redis_prefix t$$.${BATS_TEST_NUMBER}.2:" >>"$CONF2"
	fi
}
gl2() {
	"$GREYLIST_BIN" -c "$CONF2" -d "$DB2" "$@"
}

# export_to FILE: export exits 0 with nothing on stderr, into FILE.
export_to() {
	run --separate-stderr -0 gl export
	assert_equal "$stderr" ''
	printf '%s\n' "$output" >"$1"
}

# varied: a database holding a passed triplet and its tuplet, a pending
# IPv6 triplet from the null sender, a UTF-8 sender, a stored exemption
# and no_delay network, and counters.
varied() {
	run -1 check_at "$T0" 192.0.2.7 alice@example.org bob@example.net
	run -0 check_at $((T0 + 400)) 192.0.2.7 alice@example.org bob@example.net
	run -1 check_at $((T0 + 10)) 2001:db8:1:2::9 '' postmaster@example.net
	run -1 check_at $((T0 + 20)) 2001:db8:1:2::9 '' postmaster@example.net
	run -1 check_at $((T0 + 30)) 198.51.100.4 'jürgen@exämple.org' bob@example.net
	run -0 at $((T0 + 40)) exempt add @trusted.example 10.0.0.0/8
	run -0 check_at $((T0 + 50)) 10.1.2.3 x@example.com bob@example.net
}

# import_fails LINE FILE: import of FILE exits 2 naming LINE, prints
# nothing on stdout, and leaves the export as it was in before.csv.
import_fails() {
	run --separate-stderr -2 gl import "$2"
	assert_error
	assert_regex "$stderr" "^greylist: import: line $1: "
	run -0 gl export
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/before.csv")"
}

# bad_row LINE ROW...: a file with the header and the given rows, one of
# them malformed on LINE, is refused and nothing is written.
bad_row() {
	varied
	export_to "$BATS_TEST_TMPDIR/before.csv"
	printf '%s\n' "$EXPORT_HEADER" "${@:2}" >"$BATS_TEST_TMPDIR/in.csv"
	import_fails "$1" "$BATS_TEST_TMPDIR/in.csv"
}

GOOD='triplet,203.0.113.0/24,new@example.org,bob@example.net,,,1700000000,1700000000,,1,0,'

# ---- export ----

@test "export writes the header, then exemptions, triplets and tuplets in key order, then the counters" {
	run -1 check_at "$T0" 192.0.2.7 alice@example.org bob@example.net
	run -0 check_at $((T0 + 400)) 192.0.2.7 alice@example.org bob@example.net
	run -1 check_at $((T0 + 100)) 198.51.100.9 carol@example.com dave@example.net
	run -1 check_at $((T0 + 160)) 198.51.100.9 carol@example.com dave@example.net
	run -0 at $((T0 + 50)) exempt add @trusted.example 10.0.0.0/8
	run -0 check_at $((T0 + 600)) 10.9.9.9 x@example.org z@example.net
	assert_output 'X-Greylist: exempt (no_delay 10.0.0.0/8)'
	run --separate-stderr -0 gl export
	assert_equal "$stderr" ''
	assert_output "$(rows \
	    "exempt,,,,,@trusted.example,$((T0 + 50)),,,,," \
	    "no_delay,,,,,10.0.0.0/8,$((T0 + 50)),,,,," \
	    "triplet,192.0.2.0/24,alice@example.org,bob@example.net,,,$T0,$((T0 + 400)),$((T0 + 400)),1,1," \
	    "triplet,198.51.100.0/24,carol@example.com,dave@example.net,,,$((T0 + 100)),$((T0 + 160)),,2,0," \
	    "tuplet,192.0.2.0/24,,,example.org,,$((T0 + 400)),$((T0 + 400)),,,1," \
	    "$(counters 3 1 0 0 1)")"
}

@test "export of an empty database is the header and eight zero counters" {
	run --separate-stderr -0 gl export
	assert_equal "$stderr" ''
	assert_output "$(rows "$(counters 0 0 0 0 0)")"
}

@test "export sums the counters of all shards" {
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	run -1 check_at "$T0" 192.0.2.2 a@example.org c@example.net
	run -1 check_at "$T0" 192.0.2.3 a@example.org d@example.net
	run -0 gl export
	assert_equal "${lines[1]:0:7}" 'triplet'
	assert_equal "$(grep '^counter' <<<"$output")" "$(counters 3 0 0 0 0)"
}

@test "export refuses an argument" {
	run --separate-stderr -2 gl export extra
	assert_error
}

# ---- round trip ----

@test "export, import into an empty database, and export again gives the same bytes" {
	varied
	export_to "$BATS_TEST_TMPDIR/one.csv"
	other_db
	run --separate-stderr -0 gl2 import "$BATS_TEST_TMPDIR/one.csv"
	assert_output 'imported 6 entries'
	assert_equal "$stderr" ''
	run -0 gl2 export
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/one.csv")"
	assert_equal "$(grep -c '^triplet,2001:db8:1:2::/64,,postmaster@example.net,' <<<"$output")" 1
	assert_equal "$(grep -c '^triplet,198.51.100.0/24,jürgen@exämple.org,' <<<"$output")" 1
}

@test "import reads standard input when no file is given" {
	varied
	export_to "$BATS_TEST_TMPDIR/one.csv"
	other_db
	run -0 gl2 import <"$BATS_TEST_TMPDIR/one.csv"
	assert_output 'imported 6 entries'
	run -0 gl2 export
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/one.csv")"
}

@test "senders with commas, quotes and UTF-8 come back exactly through Python's csv module and through import" {
	local s1='"a,b"@example.org' s2='"x\"y"@example.org'
	local s3='jürgen@exämple.org'
	run -1 check_at "$T0" 192.0.2.1 "$s1" bob@example.net
	run -1 check_at "$T0" 192.0.2.1 "$s2" bob@example.net
	run -1 check_at "$T0" 192.0.2.1 "$s3" bob@example.net
	export_to "$BATS_TEST_TMPDIR/one.csv"
	run -0 python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
assert all(len(r) == 12 for r in rows), rows
for r in rows:
    if r[0] == "triplet":
        print(r[2])
w = csv.writer(open(sys.argv[2], "w", encoding="utf-8", newline=""),
               lineterminator="\n")
w.writerows(rows)
' "$BATS_TEST_TMPDIR/one.csv" "$BATS_TEST_TMPDIR/py.csv"
	assert_output "$(printf '%s\n' "$s1" "$s2" "$s3")"
	cmp "$BATS_TEST_TMPDIR/one.csv" "$BATS_TEST_TMPDIR/py.csv"
	other_db
	run -0 gl2 import "$BATS_TEST_TMPDIR/py.csv"
	assert_output 'imported 3 entries'
	run -0 gl2 export
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/one.csv")"
}

# ---- malformed input ----

@test "import of a row with an unknown type names its line and writes nothing" {
	bad_row 3 "$GOOD" 'pending,192.0.2.0/24,a@example.org,b@example.net,,,1,2,,1,0,'
}

@test "import of a network that is not canonical names its line and writes nothing" {
	bad_row 4 "$GOOD" "$GOOD" \
	    'triplet,10.0.0.1/24,a@example.org,b@example.net,,,1,2,,1,0,'
	assert_regex "$stderr" "line 4: network: '10.0.0.1/24' is not canonical"
}

@test "import of a bad integer names its line and writes nothing" {
	bad_row 3 "$GOOD" \
	    'triplet,10.0.0.0/24,a@example.org,b@example.net,,,1,-2,,1,0,'
}

@test "import of a time past what a record holds (2106) names its line and writes nothing" {
	bad_row 3 "$GOOD" \
	    'triplet,10.0.0.0/24,a@example.org,b@example.net,,,1,4294967296,,1,0,'
}

@test "import of a row with too few fields names its line and writes nothing" {
	bad_row 2 'triplet,10.0.0.0/24,a@example.org,b@example.net,,,1,2,,1'
}

@test "import of an unterminated quote names the line its row starts on and writes nothing" {
	bad_row 3 "$GOOD" \
	    'triplet,10.0.0.0/24,"a@example.org,b@example.net,,,1,2,,1,0,' \
	    "$GOOD"
}

@test "import of an address that is not normalised names its line and writes nothing" {
	bad_row 2 'triplet,10.0.0.0/24,a@example.org,Bob+x@example.net,,,1,2,,1,0,'
}

@test "import of an unknown counter name names its line and writes nothing" {
	bad_row 3 "$GOOD" 'counter,,,,,bounces,,,,,,5'
}

@test "import of a file without export's header row is refused" {
	varied
	export_to "$BATS_TEST_TMPDIR/before.csv"
	printf '%s\n' "$GOOD" >"$BATS_TEST_TMPDIR/in.csv"
	import_fails 1 "$BATS_TEST_TMPDIR/in.csv"
}

# ---- merge and replace ----

@test "import merges: an entry not in the file stays and an imported one overwrites" {
	run -1 check_at "$T0" 192.0.2.1 keep@example.org bob@example.net
	run -1 check_at "$T0" 192.0.2.2 old@example.org bob@example.net
	printf '%s\n' "$EXPORT_HEADER" \
	    "triplet,192.0.2.0/24,old@example.org,bob@example.net,,,$((T0 + 5)),$((T0 + 9)),$((T0 + 9)),4,2," \
	    "tuplet,198.51.100.0/24,,,example.com,,$T0,$T0,,,1," \
	    >"$BATS_TEST_TMPDIR/in.csv"
	run -0 gl import "$BATS_TEST_TMPDIR/in.csv"
	assert_output 'imported 2 entries'
	run -0 gl export
	assert_equal "$(grep -v '^counter' <<<"$output")" "$(rows \
	    "triplet,192.0.2.0/24,keep@example.org,bob@example.net,,,$T0,$T0,,1,0," \
	    "triplet,192.0.2.0/24,old@example.org,bob@example.net,,,$((T0 + 5)),$((T0 + 9)),$((T0 + 9)),4,2," \
	    "tuplet,198.51.100.0/24,,,example.com,,$T0,$T0,,,1,")"
}

@test "import --replace removes every entry that is not in the file" {
	run -1 check_at "$T0" 192.0.2.1 gone@example.org bob@example.net
	run -0 at "$T0" exempt add @gone.example
	printf '%s\n' "$EXPORT_HEADER" "$GOOD" >"$BATS_TEST_TMPDIR/in.csv"
	run -0 gl import --replace "$BATS_TEST_TMPDIR/in.csv"
	assert_output 'imported 1 entries'
	run -0 gl export
	assert_output "$(rows "$GOOD" "$(counters 0 0 0 0 0)")"
}

@test "counters after import --replace equal the exported ones" {
	varied
	export_to "$BATS_TEST_TMPDIR/one.csv"
	assert_equal "$(grep '^counter' "$BATS_TEST_TMPDIR/one.csv")" \
	    "$(counters 4 1 0 0 1)"
	other_db
	run -1 gl2 check --ip=192.0.2.1 --sender=a@example.org --rcpt=b@example.net
	run -1 gl2 check --ip=192.0.2.9 --sender=c@example.org --rcpt=d@example.net
	run -0 gl2 export
	assert_equal "$(grep '^counter' <<<"$output")" "$(counters 2 0 0 0 0)"
	run -0 gl2 import --replace "$BATS_TEST_TMPDIR/one.csv"
	run -0 gl2 export
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/one.csv")"
}

@test "import without --replace adds the counters to the stored ones" {
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	printf '%s\n' "$EXPORT_HEADER" "$(counters 5 2 0 7 1)" >"$BATS_TEST_TMPDIR/in.csv"
	run -0 gl import "$BATS_TEST_TMPDIR/in.csv"
	assert_output 'imported 0 entries'
	run -0 gl export
	assert_equal "$(grep '^counter' <<<"$output")" "$(counters 6 2 0 7 1)"
}

# ---- postgrey ----

# postgrey_db FILE: a postgrey-style btree: a triplet that waited 400 s
# (passed), one from postgrey's subnet form that waited 100 s (pending),
# and two records that are not triplets.
postgrey_db() {
	printf '%s\n' \
	    '192.0.2.7/Alice@Example.org/bob@example.net' "$T0,$((T0 + 400))" \
	    '198.51.100/x@example.org/y@example.net' "$T0,$((T0 + 100))" \
	    'garbage' '1,2' \
	    '203.0.113.1/a@example.org/b@example.net' 'soon' |
	    db5.3_load -T -t btree "$1"
}

@test "import --postgrey turns postgrey's triplets into passed and pending ones and counts the skipped" {
	postgrey_db "$BATS_TEST_TMPDIR/postgrey.db"
	run --separate-stderr -0 gl import --postgrey "$BATS_TEST_TMPDIR/postgrey.db"
	assert_output 'imported 2 entries, skipped 2'
	assert_equal "$stderr" ''
	run -0 gl export
	assert_equal "$(grep -v '^counter' <<<"$output")" "$(rows \
	    "triplet,192.0.2.0/24,alice@example.org,bob@example.net,,,$T0,$((T0 + 400)),$((T0 + 400)),1,1," \
	    "triplet,198.51.100.0/24,x@example.org,y@example.net,,,$T0,$((T0 + 100)),,1,0,")"
}

@test "after import --postgrey the passed triplet passes and the pending one is an early retry" {
	postgrey_db "$BATS_TEST_TMPDIR/postgrey.db"
	run -0 gl import --postgrey="$BATS_TEST_TMPDIR/postgrey.db"
	run --separate-stderr -0 check_at $((T0 + 3600)) 192.0.2.99 alice@example.org bob@example.net
	assert_reply 'X-Greylist: auto-whitelisted (passed before)'
	run --separate-stderr -1 check_at $((T0 + 240)) 198.51.100.42 x@example.org y@example.net
	assert_reply "${DEFER}00:01:00"
}

@test "import --postgrey of a file that is not a database fails with one line" {
	printf 'not a database\n' >"$BATS_TEST_TMPDIR/postgrey.db"
	run --separate-stderr -2 gl import --postgrey "$BATS_TEST_TMPDIR/postgrey.db"
	assert_error
	assert [ ! -e "$DB" ]
}
