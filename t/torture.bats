#!/usr/bin/env bats
# The short run of bin/torture (DESIGN.md section 7): concurrent checks,
# purges and listings with random SIGKILLs against one database, then its
# verdict. It runs once for the file (about 15 s); each test asserts one
# line of its summary. bin/torture says what each line verifies.

load test_helper

setup_file() {
	[ -z "${GREYLIST_TEST_REDIS:-}" ] || return 0
	local st=0
	"$BATS_TEST_DIRNAME/../bin/torture" --short --bin "$GREYLIST_BIN" \
		--dir "$BATS_FILE_TMPDIR/work" >"$BATS_FILE_TMPDIR/summary" 2>&1 ||
		st=$?
	echo "$st" >"$BATS_FILE_TMPDIR/status"
}

setup() {
	bdb_only "kills inside the Berkeley DB environment"
}

# summary: the torture's summary as the output of run, for assert_line.
summary() {
	run cat "$BATS_FILE_TMPDIR/summary"
}

@test "the short torture run passes every verification" {
	summary
	assert_line 'verdict: ok'
	assert_equal "$(cat "$BATS_FILE_TMPDIR/status")" 0
}

@test "the torture killed enough calls at random to mean something" {
	summary
	assert_line --regexp '^kills: ([2-9][0-9]|[1-9][0-9]{2,}) '
}

@test "no check waited past the lock bound while processes were killed" {
	summary
	assert_line --regexp '^max wall time of a non-killed check: .*; over the bound: 0$'
}

@test "no command hung on what a killed process left behind" {
	summary
	assert_line 'hung calls: 0'
}

@test "the database answers a check after the kills" {
	summary
	assert_line --regexp '^final check: (1|2 1)$'
}

@test "db_verify passes after the kills" {
	command -v db5.3_verify >/dev/null || skip "db5.3_verify not installed (db5.3-util)"
	summary
	assert_line 'verify: ok'
}

@test "every triplet whose check returned is still stored" {
	summary
	assert_line --regexp '^lost entries: 0 of [1-9][0-9]* returned$'
	assert_line --regexp '^re-checked at T0\+60: ([0-9]+) of \1 answered retry=00:04:00$'
}

@test "the shared triplet counted every returned deferral and nothing unattempted" {
	summary
	assert_line --regexp '^counter: blocked [0-9]+, returned [1-9][0-9]*, .* ok$'
}

@test "the deferred counter agrees with the checks that returned" {
	summary
	assert_line --regexp '^deferred counter: [0-9]+, .*: ok$'
}

@test "a purge after the kills removes the old entries and keeps the returned ones" {
	summary
	assert_line --regexp '^final purge: exit 0, .*old entries left 0, returned entries kept: yes$'
}
