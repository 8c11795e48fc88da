#!/usr/bin/env bats
# The greylisting method through "greylist check": embargo, retry window,
# auto-whitelisting, expiry, networks and exemptions (DESIGN.md section 1).

load test_helper

# pass_first: the standard triplet is seen at T0 and passes at T0+300.
pass_first() {
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

@test "a new triplet is deferred for the whole embargo" {
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply '451 4.7.1 Greylisted, please retry later retry=00:05:00'
}

@test "an early retry is deferred for the time left in the embargo" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "${DEFER}00:04:00"
}

@test "an early retry one second before the embargo ends is told one second" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 299)) "$IP" "$S" "$R"
	assert_reply "${DEFER}00:00:01"
}

@test "early retries do not move the first-seen time" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 check_at $((T0 + 60)) "$IP" "$S" "$R"
	run -1 check_at $((T0 + 120)) "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 240)) "$IP" "$S" "$R"
	assert_reply "${DEFER}00:01:00"
	run -0 --separate-stderr check_at $((T0 + 300)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

@test "a retry at exactly the embargo passes with the delay" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 300)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

@test "a retry within the retry window passes with the time since first seen" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 check_at $((T0 + 100)) "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 3725)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 3725 seconds'
}

@test "a retry at exactly the end of the retry window still passes" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + RETRY_WINDOW)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 100800 seconds'
}

@test "a retry after the retry window starts over with the full embargo" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + RETRY_WINDOW + 1)) "$IP" "$S" "$R"
	assert_reply "$DEFER5"
}

@test "after a start-over the embargo counts from the restart" {
	local t1=$((T0 + RETRY_WINDOW + 1))
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 check_at "$t1" "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((t1 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
	run -0 --separate-stderr check_at $((t1 + 300)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

@test "a pass auto-whitelists the network and sender domain for another recipient" {
	pass_first
	run -0 --separate-stderr check_at $((T0 + 400)) 192.0.2.77 "$S" carol@example.net
	assert_reply 'X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
}

@test "a pass auto-whitelists another sender at the same domain" {
	pass_first
	run -0 --separate-stderr check_at $((T0 + 400)) 192.0.2.200 dave@example.org erin@example.com
	assert_reply 'X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
}

@test "a pass does not whitelist the same sender from a different network" {
	pass_first
	run -1 --separate-stderr check_at $((T0 + 400)) 198.51.100.1 "$S" "$R"
	assert_reply "$DEFER5"
}

@test "a pass does not whitelist another sender domain on the same network" {
	pass_first
	run -1 --separate-stderr check_at $((T0 + 400)) "$IP" alice@example.com "$R"
	assert_reply "$DEFER5"
}

# The passed triplet and its tuplet are both valid here; the passed triplet
# is the more specific match (listed first in the spec) and names the reason.
@test "the passed triplet passes again as passed before" {
	pass_first
	run -0 --separate-stderr check_at $((T0 + 3600)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: auto-whitelisted (passed before)'
}

@test "the passed triplet still passes after the retry window" {
	pass_first
	run -0 --separate-stderr check_at $((T0 + 10 * 86400)) "$IP" "$S" "$R"
	assert_output --partial 'X-Greylist: auto-whitelisted ('
}

@test "an auto-whitelisted network expires whitelist_lifetime after its last use" {
	pass_first
	run -1 --separate-stderr check_at $((T0 + EMBARGO + LIFETIME + 1)) 192.0.2.77 "$S" carol@example.net
	assert_reply "$DEFER5"
}

@test "an auto-whitelisted network is still valid just before its lifetime ends" {
	pass_first
	run -0 --separate-stderr check_at $((T0 + EMBARGO + LIFETIME - 1)) 192.0.2.77 "$S" carol@example.net
	assert_reply 'X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
}

@test "a passed triplet expires whitelist_lifetime after its last use" {
	pass_first
	run -1 --separate-stderr check_at $((T0 + EMBARGO + LIFETIME + 1)) "$IP" "$S" "$R"
	assert_reply "$DEFER5"
}

@test "each auto-whitelisted pass refreshes the network's lifetime" {
	local p=$((T0 + EMBARGO))
	pass_first
	run -0 check_at $((p + 30 * 86400)) 192.0.2.77 "$S" carol@example.net
	run -0 --separate-stderr check_at $((p + 60 * 86400)) 192.0.2.78 "$S" dave@example.net
	assert_reply 'X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
}

@test "each pass of the passed triplet refreshes its lifetime" {
	local p=$((T0 + EMBARGO))
	pass_first
	run -0 check_at $((p + 30 * 86400)) "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((p + 60 * 86400)) "$IP" "$S" "$R"
	assert_output --partial 'X-Greylist: auto-whitelisted ('
}

@test "the null sender is greylisted like any other" {
	run -1 --separate-stderr check_at "$T0" "$IP" '' "$R"
	assert_reply "$DEFER5"
}

@test "the null sender passes after the embargo" {
	run -1 check_at "$T0" "$IP" '' "$R"
	run -0 --separate-stderr check_at $((T0 + 300)) "$IP" '' "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

@test "an IPv6 pass auto-whitelists the /64 network" {
	run -1 check_at "$T0" 2001:db8:1:2::1 "$S" "$R"
	run -0 check_at $((T0 + 300)) 2001:db8:1:2::1 "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 400)) 2001:db8:1:2:aaaa::5 "$S" carol@example.net
	assert_reply 'X-Greylist: auto-whitelisted (2001:db8:1:2::/64, example.org)'
}

@test "an IPv4-mapped IPv6 client is auto-whitelisted by its IPv4 network" {
	pass_first
	run -0 --separate-stderr check_at $((T0 + 400)) ::ffff:192.0.2.50 "$S" carol@example.net
	assert_reply 'X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
}

@test "a client in a no_delay CIDR passes at once" {
	conf 'no_delay 198.51.100.0/24'
	run -0 --separate-stderr check_at "$T0" 198.51.100.7 "$S" "$R"
	assert_reply 'X-Greylist: exempt (no_delay 198.51.100.0/24)'
}

@test "a client outside a no_delay CIDR is greylisted" {
	conf 'no_delay 198.51.100.0/24'
	run -1 --separate-stderr check_at "$T0" 198.51.101.7 "$S" "$R"
	assert_reply "$DEFER5"
}

@test "a client named by a single-address no_delay entry passes at once" {
	conf 'no_delay 203.0.113.5'
	run -0 --separate-stderr check_at "$T0" 203.0.113.5 "$S" "$R"
	assert_reply 'X-Greylist: exempt (no_delay 203.0.113.5)'
}

@test "a single-address no_delay entry does not cover its neighbours" {
	conf 'no_delay 203.0.113.5'
	run -1 --separate-stderr check_at "$T0" 203.0.113.6 "$S" "$R"
	assert_reply "$DEFER5"
}

@test "a client under a dotted no_delay prefix passes at once" {
	conf 'no_delay 192.168.'
	run -0 --separate-stderr check_at "$T0" 192.168.44.3 "$S" "$R"
	assert_reply 'X-Greylist: exempt (no_delay 192.168.)'
}

@test "a dotted no_delay prefix matches whole octets only" {
	conf 'no_delay 10.'
	run -1 --separate-stderr check_at "$T0" 100.1.2.3 "$S" "$R"
	assert_reply "$DEFER5"
}

@test "an IPv6 client in a no_delay IPv6 CIDR passes at once" {
	conf 'no_delay 2001:db8:ff::/48'
	run -0 --separate-stderr check_at "$T0" 2001:db8:ff:1::25 "$S" "$R"
	assert_reply 'X-Greylist: exempt (no_delay 2001:db8:ff::/48)'
}

@test "an exempt sender address passes at once" {
	conf 'exempt bob@example.com'
	run -0 --separate-stderr check_at "$T0" "$IP" '<Bob@Example.COM>' "$R"
	assert_reply 'X-Greylist: exempt (sender bob@example.com)'
}

@test "an exempt sender address does not exempt other senders at its domain" {
	conf 'exempt bob@example.com'
	run -1 --separate-stderr check_at "$T0" "$IP" carol@example.com "$R"
	assert_reply "$DEFER5"
}

@test "an exempt @domain passes every sender at that domain" {
	conf 'exempt @example.com'
	run -0 --separate-stderr check_at "$T0" "$IP" anyone@example.com "$R"
	assert_reply 'X-Greylist: exempt (sender @example.com)'
}

@test "an exempt @domain does not exempt the null sender" {
	conf 'exempt @example.com'
	run -1 --separate-stderr check_at "$T0" "$IP" '' "$R"
	assert_reply "$DEFER5"
}

@test "an exempt_file sender domain passes at once" {
	printf '%s\n' '# known problem senders' '' '@lists.example.com' '10.9.8.0/24' \
		>"$BATS_TEST_TMPDIR/exempt"
	conf "exempt_file $BATS_TEST_TMPDIR/exempt"
	run -0 --separate-stderr check_at "$T0" "$IP" news@lists.example.com "$R"
	assert_reply 'X-Greylist: exempt (sender @lists.example.com)'
}

@test "an exempt_file network entry joins no_delay" {
	printf '%s\n' '# known problem senders' '' '@lists.example.com' '10.9.8.0/24' \
		>"$BATS_TEST_TMPDIR/exempt"
	conf "exempt_file $BATS_TEST_TMPDIR/exempt"
	run -0 --separate-stderr check_at "$T0" 10.9.8.1 "$S" "$R"
	assert_reply 'X-Greylist: exempt (no_delay 10.9.8.0/24)'
}

@test "spf_bypass passes a client whose SPF result is pass" {
	conf 'spf_bypass yes'
	run -0 --separate-stderr check_at "$T0" "$IP" "$S" "$R" --spf=pass
	assert_reply 'X-Greylist: exempt (SPF pass)'
}

@test "spf_bypass takes the SPF result in any case" {
	conf 'spf_bypass yes'
	run -0 --separate-stderr check_at "$T0" "$IP" "$S" "$R" --spf=Pass
	assert_reply 'X-Greylist: exempt (SPF pass)'
}

@test "an SPF pass is greylisted when spf_bypass is off" {
	conf 'spf_bypass no'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R" --spf=pass
	assert_reply "$DEFER5"
}

@test "an SPF pass is greylisted by default" {
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R" --spf=pass
	assert_reply "$DEFER5"
}

@test "an SPF fail is greylisted even with spf_bypass" {
	conf 'spf_bypass yes'
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R" --spf=fail
	assert_reply "$DEFER5"
}

@test "a defer writes exactly one line to stdout and nothing to stderr" {
	run -1 --separate-stderr --keep-empty-lines check_at "$T0" "$IP" "$S" "$R"
	assert_equal "$output" "$DEFER5"$'\n'
	assert_equal "$stderr" ''
}

@test "a pass writes exactly one line to stdout and nothing to stderr" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 --separate-stderr --keep-empty-lines check_at $((T0 + 300)) "$IP" "$S" "$R"
	assert_equal "$output" $'X-Greylist: delayed 300 seconds\n'
	assert_equal "$stderr" ''
}

@test "the reply template expands %r %s %n %d and %%" {
	conf 'reply 450 4.2.0 Wait %s seconds (%r) from %n for %d, 100%% sure'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply '450 4.2.0 Wait 240 seconds (00:04:00) from 192.0.2.0/24 for example.org, 100% sure'
}

@test "the header keyword names the pass header" {
	conf 'header X-Grey-Test'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 300)) "$IP" "$S" "$R"
	assert_reply 'X-Grey-Test: delayed 300 seconds'
}

@test "the check options also take their value as the next argument" {
	run -1 at "$T0" check --ip "$IP" --sender "$S" --rcpt "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
}

@test "the helo name does not change the triplet" {
	run -1 check_at "$T0" "$IP" "$S" "$R" --helo=mx1.example.org
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R" --helo=other.example.com
	assert_reply "$DEFER4"
}

@test "-v copies the decision to stderr and keeps stdout to the one line" {
	run -1 --separate-stderr at "$T0" -v check --ip="$IP" --sender="$S" --rcpt="$R"
	assert_output "$DEFER5"
	assert_equal "${#lines[@]}" 1
	assert [ -n "$stderr" ]
}
