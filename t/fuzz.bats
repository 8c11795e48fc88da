#!/usr/bin/env bats
# The fuzz targets of t/fuzz/: each builds and runs clean for a few
# seconds (GREYLIST_FUZZ_SECONDS, default 3) over its seed corpus, the
# crashes found before included. Needs clang and libFuzzer; skipped with
# the reason when they are missing. CI runs each longer through bin/fuzz.

load test_helper

: "${GREYLIST_SRCDIR:=$BATS_TEST_DIRNAME/..}"
: "${GREYLIST_FUZZ_SECONDS:=3}"

# fuzz TARGET: builds and runs TARGET under the test's own temporary
# directory, skipping the test when the toolchain is missing.
fuzz() {
	local why
	# CI's sanitized second pass: the targets are sanitizer builds
	# already, and CI runs each longer through bin/fuzz.
	[ -z "${GREYLIST_TEST_QUICK:-}" ] || skip "GREYLIST_TEST_QUICK: CI runs bin/fuzz"
	why=$("$GREYLIST_SRCDIR/bin/fuzz" toolchain) || skip "$why"
	TMPDIR=$BATS_TEST_TMPDIR run "$GREYLIST_SRCDIR/bin/fuzz" "$1" \
	    "$GREYLIST_FUZZ_SECONDS"
	# Not run -0: assert_success shows the crash report and the input.
	assert_success
	assert_line --regexp "^$1: [0-9]+ executions in [0-9]+s, cov: [0-9]+, corp: [0-9]+/[0-9]+[a-zA-Z]*: ok\$"
}

@test "bin/fuzz lists every target that has a source and a seed corpus" {
	run -0 "$GREYLIST_SRCDIR/bin/fuzz" list
	assert_output "$(printf '%s\n' addr conf wl import policy record)"
	for t in $output; do
		assert [ -f "$GREYLIST_SRCDIR/t/fuzz/$t.c" ]
		assert [ -d "$GREYLIST_SRCDIR/t/fuzz/corpus/$t" ]
	done
}

@test "the addr target (IP, network and envelope address parsers) runs clean" {
	fuzz addr
}

@test "the conf target (greylist.conf and the files it names) runs clean" {
	fuzz conf
}

@test "the wl target (the ~/.wl sanitiser) runs clean" {
	fuzz wl
}

@test "the import target (CSV import rows and postgrey records) runs clean" {
	fuzz import
}

@test "the policy target (Postfix policy requests) runs clean" {
	fuzz policy
}

@test "the record target (stored keys and values) runs clean" {
	fuzz record
}
