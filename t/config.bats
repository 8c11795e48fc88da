#!/usr/bin/env bats
# The config file (greylist.conf(5)): every keyword accepted and, where
# "greylist check" can show it, in effect; every kind of bad line refused
# with the file and line named, before any database is touched.

load test_helper

# embargo_gives DURATION RETRY: with "embargo DURATION", a new triplet is
# told retry=RETRY.
embargo_gives() {
	conf "embargo $1" 'retry_window 2592000'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "${DEFER}$2"
}

# A bad line at line 4, after a comment and a blank line, so that the line
# count must include them.
bad_line() {
	conf '# a comment' '' "$@"
}

@test "a config holding only the database line works" {
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
}

@test "the database directory is created when missing" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	assert [ -d "$DB" ]
	assert [ -f "$DB/greylist.db" ]
}

@test "a new database directory is group-writable and closed to others whatever the umask" {
	umask 077
	run -1 check_at "$T0" "$IP" "$S" "$R"
	assert_regex "$(stat -c %a "$DB")" '^2?770$'
}

@test "the database keyword chooses the database directory" {
	printf 'database %s\n' "$BATS_TEST_TMPDIR/other" >"$CONF"
	run -1 check_at "$T0" "$IP" "$S" "$R"
	assert [ -f "$BATS_TEST_TMPDIR/other/greylist.db" ]
	assert [ ! -e "$DB" ]
}

@test "-d overrides the config's database directory" {
	run -1 --separate-stderr at "$T0" -d "$BATS_TEST_TMPDIR/other" check --ip="$IP" --sender="$S" --rcpt="$R"
	assert_reply "$DEFER5"
	assert [ -f "$BATS_TEST_TMPDIR/other/greylist.db" ]
	assert [ ! -e "$DB" ]
}

@test "-d keeps its triplets apart from the config's database" {
	run -1 at "$T0" -d "$BATS_TEST_TMPDIR/other" check --ip="$IP" --sender="$S" --rcpt="$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr at $((T0 + 60)) -d "$BATS_TEST_TMPDIR/other" check --ip="$IP" --sender="$S" --rcpt="$R"
	assert_reply "$DEFER4"
}

@test "comments, blank lines and trailing comments are ignored" {
	conf '# whole-line comment' '' '   ' '	# indented comment' 'embargo 2m # trailing comment'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "${DEFER}00:02:00"
}

@test "an embargo in bare seconds is taken as seconds" {
	embargo_gives 90 00:01:30
}

@test "an embargo in s is taken as seconds" {
	embargo_gives 90s 00:01:30
}

@test "an embargo in m is taken as minutes" {
	embargo_gives 2m 00:02:00
}

@test "an embargo in h is taken as hours" {
	embargo_gives 2h 02:00:00
}

@test "an embargo in d is taken as days and the retry hours exceed 23" {
	embargo_gives 2d 48:00:00
}

@test "an embargo in w is taken as weeks" {
	conf 'embargo 1w' 'retry_window 2w'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "${DEFER}168:00:00"
}

@test "a retry at the configured embargo passes" {
	conf 'embargo 1m'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 60 seconds'
}

@test "a retry at the end of the configured retry_window passes" {
	conf 'retry_window 1h'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 3600)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 3600 seconds'
}

@test "a retry after the configured retry_window starts over" {
	conf 'retry_window 3600'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 3601)) "$IP" "$S" "$R"
	assert_reply "$DEFER5"
}

@test "retry_window takes days" {
	conf 'retry_window 2d'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 2 * 86400)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 172800 seconds'
}

@test "retry_window takes minutes" {
	conf 'retry_window 10m'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 601)) "$IP" "$S" "$R"
	assert_reply "$DEFER5"
}

@test "an auto-whitelisted network expires after the configured whitelist_lifetime in days" {
	conf 'whitelist_lifetime 2d'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 check_at $((T0 + 300)) "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 300 + 2 * 86400 + 1)) 192.0.2.9 "$S" carol@example.net
	assert_reply "$DEFER5"
}

@test "an auto-whitelisted network lives for the configured whitelist_lifetime in days" {
	conf 'whitelist_lifetime 2d'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 check_at $((T0 + 300)) "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 300 + 2 * 86400 - 1)) 192.0.2.9 "$S" carol@example.net
	assert_reply 'X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
}

@test "whitelist_lifetime takes hours" {
	conf 'whitelist_lifetime 5h'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 check_at $((T0 + 300)) "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 300 + 5 * 3600 + 1)) 192.0.2.9 "$S" carol@example.net
	assert_reply "$DEFER5"
}

@test "whitelist_lifetime takes minutes" {
	conf 'whitelist_lifetime 90m'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 check_at $((T0 + 300)) "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 300 + 5401)) 192.0.2.9 "$S" carol@example.net
	assert_reply "$DEFER5"
}

@test "whitelist_lifetime takes seconds with the unit" {
	conf 'whitelist_lifetime 1000s'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 check_at $((T0 + 300)) "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 1301)) 192.0.2.9 "$S" carol@example.net
	assert_reply "$DEFER5"
}

@test "whitelist_lifetime takes bare seconds" {
	conf 'whitelist_lifetime 1000'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 check_at $((T0 + 300)) "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 1301)) 192.0.2.9 "$S" carol@example.net
	assert_reply "$DEFER5"
}

@test "ipv4_prefix names the auto-whitelisted network" {
	conf 'ipv4_prefix 16'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 check_at $((T0 + 300)) "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 400)) 192.0.200.1 "$S" carol@example.net
	assert_reply 'X-Greylist: auto-whitelisted (192.0.0.0/16, example.org)'
}

@test "ipv6_prefix names the auto-whitelisted network" {
	conf 'ipv6_prefix 48'
	run -1 check_at "$T0" 2001:db8:1:2::1 "$S" "$R"
	run -0 check_at $((T0 + 300)) 2001:db8:1:2::1 "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 400)) 2001:db8:1:9::1 "$S" carol@example.net
	assert_reply 'X-Greylist: auto-whitelisted (2001:db8:1::/48, example.org)'
}

@test "no_delay is repeatable" {
	conf 'no_delay 198.51.100.0/24' 'no_delay 203.0.113.5'
	run -0 check_at "$T0" 198.51.100.9 "$S" "$R"
	run -0 --separate-stderr check_at "$T0" 203.0.113.5 "$S" "$R"
	assert_reply 'X-Greylist: exempt (no_delay 203.0.113.5)'
}

@test "no_delay takes a comma-separated list" {
	conf 'no_delay 198.51.100.0/24, 203.0.113.5,10.'
	run -0 check_at "$T0" 198.51.100.9 "$S" "$R"
	run -0 check_at "$T0" 10.1.2.3 "$S" "$R"
	run -0 --separate-stderr check_at "$T0" 203.0.113.5 "$S" "$R"
	assert_reply 'X-Greylist: exempt (no_delay 203.0.113.5)'
}

@test "no_delay takes a space-separated list" {
	conf 'no_delay 198.51.100.0/24 203.0.113.5'
	run -0 --separate-stderr check_at "$T0" 198.51.100.9 "$S" "$R"
	assert_reply 'X-Greylist: exempt (no_delay 198.51.100.0/24)'
}

@test "exempt is repeatable" {
	conf 'exempt bob@example.com' 'exempt @example.net'
	run -0 check_at "$T0" "$IP" bob@example.com "$R"
	run -0 --separate-stderr check_at "$T0" "$IP" anyone@example.net "$R"
	assert_reply 'X-Greylist: exempt (sender @example.net)'
}

@test "exempt takes a list" {
	conf 'exempt bob@example.com, @example.net'
	run -0 check_at "$T0" "$IP" bob@example.com "$R"
	run -0 --separate-stderr check_at "$T0" "$IP" anyone@example.net "$R"
	assert_reply 'X-Greylist: exempt (sender @example.net)'
}

@test "exempt entries are normalised like senders" {
	conf 'exempt <Bob@Example.COM>'
	run -0 --separate-stderr check_at "$T0" "$IP" bob@example.com "$R"
	assert_reply 'X-Greylist: exempt (sender bob@example.com)'
}

@test "exempt_file ignores comments and blank lines" {
	printf '%s\n' '# a comment' '' 'bob@example.com' >"$BATS_TEST_TMPDIR/exempt"
	conf "exempt_file $BATS_TEST_TMPDIR/exempt"
	run -0 --separate-stderr check_at "$T0" "$IP" bob@example.com "$R"
	assert_reply 'X-Greylist: exempt (sender bob@example.com)'
}

@test "local_domains is accepted" {
	conf 'local_domains example.net, example.com'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
}

@test "spf_bypass yes is accepted and in effect" {
	conf 'spf_bypass yes'
	run -0 --separate-stderr check_at "$T0" "$IP" "$S" "$R" --spf=pass
	assert_reply 'X-Greylist: exempt (SPF pass)'
}

@test "normalize_verp yes is accepted and in effect" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" bounces-1@example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" bounces-2@example.org "$R"
	assert_reply "$DEFER4"
}

@test "privacy yes hides the sender's local part in the logged decision" {
	conf 'privacy yes'
	run -1 --separate-stderr at "$T0" -v check --ip="$IP" --sender="$S" --rcpt="$R"
	assert_output "$DEFER5"
	assert_regex "$stderr" '\*@example\.org'
	refute_regex "$stderr" 'alice'
}

@test "privacy no shows the full sender in the logged decision" {
	conf 'privacy no'
	run -1 --separate-stderr at "$T0" -v check --ip="$IP" --sender="$S" --rcpt="$R"
	assert_output "$DEFER5"
	assert_regex "$stderr" 'alice@example\.org'
}

@test "the reply keyword replaces the defer line" {
	conf 'reply 421 4.7.0 Slow down, retry in %r'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply '421 4.7.0 Slow down, retry in 00:05:00'
}

@test "the header keyword replaces the pass header name" {
	conf 'header X-Greylisting' 'no_delay 203.0.113.5'
	run -0 --separate-stderr check_at "$T0" 203.0.113.5 "$S" "$R"
	assert_reply 'X-Greylisting: exempt (no_delay 203.0.113.5)'
}

@test "mta_users and admin_group are accepted" {
	conf 'mta_users Debian-exim, exim mail' 'admin_group adm'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
}

@test "timeout takes milliseconds" {
	conf 'timeout 500ms'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
}

@test "timeout takes seconds" {
	conf 'timeout 2s'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
}

@test "log_stderr yes copies the decision to stderr" {
	conf 'log_stderr yes'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_output "$DEFER5"
	assert_equal "${#lines[@]}" 1
	assert_regex "$stderr" 'alice@example\.org'
}

@test "log_stderr no keeps stderr empty" {
	conf 'log_stderr no'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
}

@test "an embargo longer than the default retry window is accepted before its retry_window" {
	conf 'embargo 30h' 'retry_window 40h'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "${DEFER}30:00:00"
}

@test "-c naming a missing file is an error" {
	run -2 --separate-stderr "$GREYLIST_BIN" -c "$BATS_TEST_TMPDIR/missing.conf" check --ip="$IP" --sender="$S" --rcpt="$R"
	assert_error
	assert_regex "$stderr" 'missing\.conf'
}

@test "an unknown keyword is an error naming its line" {
	bad_line 'embargoo 5m'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "an unknown keyword after valid lines names its own line" {
	conf 'embargo 5m' 'retry_window 28h' 'whitelist_lifetime 36d' 'ipv4_prefix 24' \
		'ipv6_prefix 64' 'spf_bypass no' 'normalize_verp no' 'privacy no' 'header X-Greylist' \
		'greylisting on'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 11
}

@test "a duration with an unknown unit is an error" {
	bad_line 'embargo 5x'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a negative duration is an error" {
	bad_line 'retry_window -5h'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a duration that is not a number is an error" {
	bad_line 'whitelist_lifetime forever'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a keyword without its value is an error" {
	bad_line 'embargo'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a bad timeout is an error" {
	bad_line 'timeout soon'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "an ipv4_prefix over 32 is an error" {
	bad_line 'ipv4_prefix 33'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "an ipv6_prefix over 128 is an error" {
	bad_line 'ipv6_prefix 129'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a prefix that is not a number is an error" {
	bad_line 'ipv4_prefix /24'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a yes/no keyword with another value is an error" {
	bad_line 'spf_bypass maybe'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a no_delay entry that is not an address is an error" {
	bad_line 'no_delay mail.example.com'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a no_delay address with an octet over 255 is an error" {
	bad_line 'no_delay 192.0.2.0/24, 300.1.1.1'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a no_delay CIDR with a prefix over 32 is an error" {
	bad_line 'no_delay 192.0.2.0/33'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "an exempt_file that cannot be read is an error" {
	bad_line "exempt_file $BATS_TEST_TMPDIR/no-such-file"
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a retry_window equal to the embargo is an error" {
	conf 'embargo 1h' 'retry_window 60m'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_error
	assert_regex "$stderr" "^greylist: $CONF: .*retry_window"
	assert [ ! -e "$DB" ]
}

@test "a retry_window shorter than an embargo set after it is an error" {
	conf 'retry_window 10m' 'embargo 20m'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_error
	assert_regex "$stderr" "^greylist: $CONF: .*retry_window"
	assert [ ! -e "$DB" ]
}

@test "a reply without a 4xx code is an error" {
	bad_line 'reply Greylisted, please retry later'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a reply with a 5xx code is an error" {
	bad_line 'reply 550 5.7.1 Go away'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a reply with an unknown escape is an error" {
	bad_line 'reply 451 4.7.1 Wait %x'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a reply ending in a lone percent sign is an error" {
	bad_line 'reply 451 4.7.1 Wait 100%'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a header name with a space is an error" {
	bad_line 'header X Greylist'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a header name with a colon is an error" {
	bad_line 'header X-Greylist:'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a header name with a non-ASCII byte is an error" {
	bad_line $'header X-Gr\xc3\xa9y'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a rejected config leaves an existing database unchanged" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	cp "$CONF" "$BATS_TEST_TMPDIR/good.conf"
	conf 'embargo 5x'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" carol@example.net
	assert_error
	cp "$BATS_TEST_TMPDIR/good.conf" "$CONF"
	run -1 check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_output "$DEFER4"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" carol@example.net
	assert_reply "$DEFER5"
}

@test "an over-long password names its file with control bytes shown as ?" {
	local f=$BATS_TEST_TMPDIR/pass$'\r'word
	head -c 600 /dev/zero | tr '\0' x >"$f"
	bad_line 'backend redis' 'redis_server unix:/nonexistent/redis.sock' \
		"redis_password_file $f"
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 6
	assert_regex "$stderr" 'pass\?word: password longer than 510 bytes$'
}
