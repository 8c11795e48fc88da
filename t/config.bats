#!/usr/bin/env bats
# The config file (greylist.conf(5)): every keyword accepted and, where
# "greylist check" can show it, in effect; every kind of bad line refused
# with the file and line named, before any database is touched.

load test_helper

# A bad line at line 4, after a comment and a blank line, so that the line
# count must include them.
bad_line() {
	conf '# a comment' '' "$@"
}

@test "keywords accepted, and in effect where check shows them" {
	printf '%s\n' '# a comment' '' 'bob@example.com' >"$BATS_TEST_TMPDIR/exempt"
	each_row first_check "
	a config holding only the database line works||1|$DEFER5|$IP|$S|$R
	no_delay takes a space-separated list|no_delay 198.51.100.0/24 203.0.113.5|0|X-Greylist: exempt (no_delay 198.51.100.0/24)|198.51.100.9|$S|$R
	exempt entries are normalised like senders|exempt <Bob@Example.COM>|0|X-Greylist: exempt (sender bob@example.com)|$IP|bob@example.com|$R
	exempt_file ignores comments and blank lines|exempt_file $BATS_TEST_TMPDIR/exempt|0|X-Greylist: exempt (sender bob@example.com)|$IP|bob@example.com|$R
	local_domains is accepted|local_domains example.net, example.com|1|$DEFER5|$IP|$S|$R
	spf_bypass yes is accepted and in effect|spf_bypass yes|0|X-Greylist: exempt (SPF pass)|$IP|$S|$R|--spf=pass
	the reply keyword replaces the defer line|reply 421 4.7.0 Slow down, retry in %r|1|421 4.7.0 Slow down, retry in 00:05:00|$IP|$S|$R
	the header keyword replaces the pass header name|header X-Greylisting;no_delay 203.0.113.5|0|X-Greylisting: exempt (no_delay 203.0.113.5)|203.0.113.5|$S|$R
	mta_users and admin_group are accepted|mta_users Debian-exim, exim mail;admin_group adm|1|$DEFER5|$IP|$S|$R
	timeout takes milliseconds|timeout 500ms|1|$DEFER5|$IP|$S|$R
	timeout takes seconds|timeout 2s|1|$DEFER5|$IP|$S|$R
	log_stderr no keeps stderr empty|log_stderr no|1|$DEFER5|$IP|$S|$R
	"
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

@test "the embargo takes bare seconds and the units s, m, h, d and w" {
	each_row first_check "
	an embargo in bare seconds is taken as seconds|embargo 90;retry_window 2592000|1|${DEFER}00:01:30|$IP|$S|$R
	an embargo in s is taken as seconds|embargo 90s;retry_window 2592000|1|${DEFER}00:01:30|$IP|$S|$R
	an embargo in m is taken as minutes|embargo 2m;retry_window 2592000|1|${DEFER}00:02:00|$IP|$S|$R
	an embargo in h is taken as hours|embargo 2h;retry_window 2592000|1|${DEFER}02:00:00|$IP|$S|$R
	an embargo in d is taken as days and the retry hours exceed 23|embargo 2d;retry_window 2592000|1|${DEFER}48:00:00|$IP|$S|$R
	an embargo in w is taken as weeks|embargo 1w;retry_window 2w|1|${DEFER}168:00:00|$IP|$S|$R
	an embargo longer than the default retry window is accepted before its retry_window|embargo 30h;retry_window 40h|1|${DEFER}30:00:00|$IP|$S|$R
	"
}

@test "a retry is judged by the configured embargo and retry_window" {
	each_row retry_check "
	a retry at the configured embargo passes|embargo 1m|60|0|X-Greylist: delayed 60 seconds
	a retry at the end of the configured retry_window passes|retry_window 1h|3600|0|X-Greylist: delayed 3600 seconds
	a retry after the configured retry_window starts over|retry_window 3600|3601|1|$DEFER5
	retry_window takes days|retry_window 2d|2 * 86400|0|X-Greylist: delayed 172800 seconds
	retry_window takes minutes|retry_window 10m|601|1|$DEFER5
	"
}

@test "whitelist_lifetime, ipv4_prefix and ipv6_prefix shape the auto-whitelisting" {
	each_row after_pass "
	an auto-whitelisted network expires after the configured whitelist_lifetime in days|whitelist_lifetime 2d|$IP|300 + 2 * 86400 + 1|1|$DEFER5|192.0.2.9|$S|carol@example.net
	an auto-whitelisted network lives for the configured whitelist_lifetime in days|whitelist_lifetime 2d|$IP|300 + 2 * 86400 - 1|0|X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)|192.0.2.9|$S|carol@example.net
	whitelist_lifetime takes hours|whitelist_lifetime 5h|$IP|300 + 5 * 3600 + 1|1|$DEFER5|192.0.2.9|$S|carol@example.net
	whitelist_lifetime takes minutes|whitelist_lifetime 90m|$IP|300 + 5401|1|$DEFER5|192.0.2.9|$S|carol@example.net
	whitelist_lifetime takes seconds with the unit|whitelist_lifetime 1000s|$IP|1301|1|$DEFER5|192.0.2.9|$S|carol@example.net
	whitelist_lifetime takes bare seconds|whitelist_lifetime 1000|$IP|1301|1|$DEFER5|192.0.2.9|$S|carol@example.net
	ipv4_prefix names the auto-whitelisted network|ipv4_prefix 16|$IP|400|0|X-Greylist: auto-whitelisted (192.0.0.0/16, example.org)|192.0.200.1|$S|carol@example.net
	ipv6_prefix names the auto-whitelisted network|ipv6_prefix 48|2001:db8:1:2::1|400|0|X-Greylist: auto-whitelisted (2001:db8:1::/48, example.org)|2001:db8:1:9::1|$S|carol@example.net
	"
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

# both_exempt CONF: with the config lines CONF, bob@example.com and every
# sender at example.net pass at once.
both_exempt() {
	conf_lines "$1"
	run -0 check_at "$T0" "$IP" bob@example.com "$R"
	run -0 --separate-stderr check_at "$T0" "$IP" anyone@example.net "$R"
	assert_reply 'X-Greylist: exempt (sender @example.net)'
}

@test "exempt is repeatable and takes a list" {
	each_row both_exempt "
	exempt is repeatable|exempt bob@example.com;exempt @example.net
	exempt takes a list|exempt bob@example.com, @example.net
	"
}

@test "normalize_verp yes is accepted and in effect" {
	one_triplet 'normalize_verp yes' "$IP" bounces-1@example.org "$R" \
		"$IP" bounces-2@example.org "$R"
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

@test "log_stderr yes copies the decision to stderr" {
	conf 'log_stderr yes'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_output "$DEFER5"
	assert_equal "${#lines[@]}" 1
	assert_regex "$stderr" 'alice@example\.org'
}

@test "-c naming a missing file is an error" {
	run -2 --separate-stderr "$GREYLIST_BIN" -c "$BATS_TEST_TMPDIR/missing.conf" check --ip="$IP" --sender="$S" --rcpt="$R"
	assert_error
	assert_regex "$stderr" 'missing\.conf'
}

# bad_config LINE: LINE, at line 4 of the config, makes a check exit 2 with
# a config error naming that line, before any database is made.
bad_config() {
	bad_line "$1"
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 4
}

@test "a bad line is an error naming its line" {
	local nonascii=$'\xc3\xa9'
	each_row bad_config "
	an unknown keyword is an error naming its line|embargoo 5m
	a duration with an unknown unit is an error|embargo 5x
	a negative duration is an error|retry_window -5h
	a duration that is not a number is an error|whitelist_lifetime forever
	a keyword without its value is an error|embargo
	a bad timeout is an error|timeout soon
	an ipv4_prefix over 32 is an error|ipv4_prefix 33
	an ipv6_prefix over 128 is an error|ipv6_prefix 129
	a prefix that is not a number is an error|ipv4_prefix /24
	a yes/no keyword with another value is an error|spf_bypass maybe
	a no_delay entry that is not an address is an error|no_delay mail.example.com
	a no_delay address with an octet over 255 is an error|no_delay 192.0.2.0/24, 300.1.1.1
	a no_delay CIDR with a prefix over 32 is an error|no_delay 192.0.2.0/33
	an exempt_file that cannot be read is an error|exempt_file $BATS_TEST_TMPDIR/no-such-file
	a reply without a 4xx code is an error|reply Greylisted, please retry later
	a reply with a 5xx code is an error|reply 550 5.7.1 Go away
	a reply with an unknown escape is an error|reply 451 4.7.1 Wait %x
	a reply ending in a lone percent sign is an error|reply 451 4.7.1 Wait 100%
	a header name with a space is an error|header X Greylist
	a header name with a colon is an error|header X-Greylist:
	a header name with a non-ASCII byte is an error|header X-Gr${nonascii}y
	"
}

# window_error CONF: the config lines CONF set a retry_window no longer
# than the embargo: a check exits 2 naming retry_window, and no database.
window_error() {
	conf_lines "$1"
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_error
	assert_regex "$stderr" "^greylist: $CONF: .*retry_window"
	assert [ ! -e "$DB" ]
}

@test "a retry_window not longer than the embargo is an error" {
	each_row window_error "
	a retry_window equal to the embargo is an error|embargo 1h;retry_window 60m
	a retry_window shorter than an embargo set after it is an error|retry_window 10m;embargo 20m
	"
}

@test "an unknown keyword after valid lines names its own line" {
	conf 'embargo 5m' 'retry_window 28h' 'whitelist_lifetime 36d' 'ipv4_prefix 24' \
		'ipv6_prefix 64' 'spf_bypass no' 'normalize_verp no' 'privacy no' 'header X-Greylist' \
		'greylisting on'
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_config_error 11
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
