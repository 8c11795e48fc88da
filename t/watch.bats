#!/usr/bin/env bats
# What admins watch: stats in the Prometheus text format, and progress of
# import and purge on a terminal (none when stderr is not one).

load test_helper

# on_tty CMD...: CMD with stdin, stdout and stderr on a terminal (script).
on_tty() {
	script -qec "$(printf '%q ' "$@")" /dev/null
}

@test "stats --prometheus gives entries, decisions and delay quantiles" {
	run -1 check_at $T0 $IP $S a@example.net
	run -1 check_at $T0 $IP $S b@example.net
	run -0 check_at $((T0 + 400)) $IP $S a@example.net
	run -0 --separate-stderr at $((T0 + 400)) stats --prometheus
	assert_equal "$stderr" ''
	assert_line '# TYPE greylist_entries gauge'
	assert_line 'greylist_entries{state="pending"} 1'
	assert_line 'greylist_entries{state="passed"} 1'
	assert_line 'greylist_entries{state="whitelisted"} 1'
	assert_line '# TYPE greylist_decisions_total counter'
	assert_line 'greylist_decisions_total{reason="deferred"} 2'
	assert_line 'greylist_decisions_total{reason="passed_delay"} 1'
	assert_line '# TYPE greylist_delay_seconds summary'
	assert_line 'greylist_delay_seconds{quantile="0.5"} 400'
	assert_line 'greylist_delay_seconds{quantile="0.99"} 400'
	assert_line 'greylist_delay_seconds_sum 400'
	assert_line 'greylist_delay_seconds_count 1'
	# Every line a comment or "name{labels} value", as the format wants.
	refute_line --regexp '^[^#][^ ]* [^0-9]'
}

@test "stats takes --csv or --prometheus, not both" {
	run -2 --separate-stderr gl stats --csv --prometheus
	assert_error
}

@test "import shows its progress on a terminal, and nothing elsewhere" {
	bdb_only "25,000 entries written twice: long on Redis"
	import_rows 25000 >"$BATS_TEST_TMPDIR/in.csv"
	run -0 on_tty "$GREYLIST_BIN" -c "$CONF" import "$BATS_TEST_TMPDIR/in.csv"
	assert_output --partial $'\r10000 of 25000 entries'
	assert_output --partial $'\r25000 of 25000 entries'
	run -0 --separate-stderr gl import --replace "$BATS_TEST_TMPDIR/in.csv"
	assert_equal "$stderr" ''
}

@test "purge shows its progress on a terminal" {
	bdb_only "purge has nothing to do on Redis"
	import_rows 12000 | gl import
	run -0 on_tty env GREYLIST_NOW=$((T0 + RETRY_WINDOW + 1)) \
		"$GREYLIST_BIN" -c "$CONF" purge
	assert_output --partial $'\r10000 entries looked at, '
	assert_output --partial 'purged 12000 pending, 0 passed, 0 whitelisted'
}
