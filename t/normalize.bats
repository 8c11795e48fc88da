#!/usr/bin/env bats
# Normalisation of networks and addresses, observed through the clock: a
# variant checked 60 seconds after the original is the same triplet when it
# is told retry=00:04:00, and a different one when told retry=00:05:00 while
# the original, checked again, is still told retry=00:04:00. Each table row
# is: what it shows | config lines | original | variant (one_triplet and
# two_triplets in test_helper.bash).

load test_helper

@test "address variants that are one triplet" {
	each_row one_triplet "
	angle brackets around the sender are removed||$IP|<$S>|$R|$IP|$S|$R
	angle brackets around the recipient are removed||$IP|$S|<$R>|$IP|$S|$R
	surrounding spaces around the addresses are removed||$IP| $S |  <$R> |$IP|$S|$R
	the null sender written as <> is the null sender||$IP|<>|$R|$IP||$R
	sender case is ignored in the local part and the domain||$IP|Alice@Example.ORG|$R|$IP|aLICE@example.org|$R
	recipient case is ignored in the local part and the domain||$IP|$S|BOB@Example.Net|$IP|$S|bob@example.NET
	the recipient's +detail is removed||$IP|$S|bob+lists@example.net|$IP|$S|$R
	the recipient's +detail is removed whatever its case||$IP|$S|<Bob+Lists@Example.ORG>|$IP|$S|bob+other@example.org
	"
}

@test "address variants that are different triplets" {
	each_row two_triplets "
	an unrelated sender is a different triplet||$IP|$S|$R|$IP|carol@example.org|$R
	an unrelated recipient is a different triplet||$IP|$S|$R|$IP|$S|dave@example.net
	the null sender is a different sender from a named one||$IP||$R|$IP|$S|$R
	the sender's +detail is kept||$IP|alice+news@example.org|$R|$IP|$S|$R
	"
}

@test "normalize_verp collapses the variable parts of VERP, BATV and SRS senders" {
	each_row one_triplet "
	a BATV prvs tag|normalize_verp yes|$IP|prvs=0123abcd=alice@example.org|$R|$IP|prvs=9876fedc=alice@example.org|$R
	a BATV msprvs1 tag|normalize_verp yes|$IP|msprvs1=18020lbma2vq=alice@example.org|$R|$IP|msprvs1=18021xyzq3ab=alice@example.org|$R
	a BATV btv1 tag|normalize_verp yes|$IP|btv1==0123abcdef==alice@example.org|$R|$IP|btv1==fedcba9876==alice@example.org|$R
	the SRS0 hash and timestamp|normalize_verp yes|$IP|SRS0=ab12=Q3=example.com=alice@forwarder.example|$R|$IP|SRS0=zy98=R7=example.com=alice@forwarder.example|$R
	the SRS1 hash and timestamp|normalize_verp yes|$IP|SRS1=xq1a=first.example==ab12=Q3=example.com=alice@second.example|$R|$IP|SRS1=mn9z=first.example==zy98=R7=example.com=alice@second.example|$R
	VERP digit runs of any length|normalize_verp yes|$IP|bounces-12345@lists.example.org|$R|$IP|bounces-7@lists.example.org|$R
	several digit runs in one local part|normalize_verp yes|$IP|msg-1234-5678-bounce@lists.example.org|$R|$IP|msg-99-1-bounce@lists.example.org|$R
	hex runs of eight or more holding a digit|normalize_verp yes|$IP|bounce-1a2b3c4d5e@lists.example.org|$R|$IP|bounce-f9e8d7c6b5@lists.example.org|$R
	"
}

@test "normalize_verp keeps different senders apart, and is off unless set" {
	each_row two_triplets "
	normalize_verp does not merge different senders behind BATV tags|normalize_verp yes|$IP|prvs=0123abcd=alice@example.org|$R|$IP|prvs=0123abcd=carol@example.org|$R
	normalize_verp leaves digits in the sender's domain alone|normalize_verp yes|$IP|alice@mx1.example.org|$R|$IP|alice@mx2.example.org|$R
	normalize_verp leaves the recipient alone|normalize_verp yes|$IP|$S|user1@example.net|$IP|$S|user2@example.net
	without normalize_verp VERP digit runs are different senders|normalize_verp no|$IP|bounces-12345@lists.example.org|$R|$IP|bounces-67890@lists.example.org|$R
	without normalize_verp BATV tags are different senders|normalize_verp no|$IP|prvs=0123abcd=alice@example.org|$R|$IP|prvs=9876fedc=alice@example.org|$R
	normalize_verp is off by default||$IP|bounces-12345@lists.example.org|$R|$IP|bounces-67890@lists.example.org|$R
	"
}

@test "clients that are one network" {
	each_row one_triplet "
	two clients in the same IPv4 /24 are one network by default||192.0.2.1|$S|$R|192.0.2.254|$S|$R
	two IPv6 clients in the same /64 are one network by default||2001:db8:1:2::1|$S|$R|2001:db8:1:2::ffff|$S|$R
	an IPv4-mapped IPv6 client counts as its IPv4 /24||::ffff:192.0.2.1|$S|$R|192.0.2.9|$S|$R
	ipv4_prefix 32 still matches the same address|ipv4_prefix 32|192.0.2.1|$S|$R|192.0.2.1|$S|$R
	ipv4_prefix 16 groups clients by /16|ipv4_prefix 16|192.0.2.1|$S|$R|192.0.77.1|$S|$R
	ipv6_prefix 128 still matches the same address however it is written|ipv6_prefix 128|2001:db8:1:2::1|$S|$R|2001:0DB8:0001:0002:0000:0000:0000:0001|$S|$R
	ipv6_prefix 48 groups clients by /48|ipv6_prefix 48|2001:db8:1:2::1|$S|$R|2001:db8:1:ffff::1|$S|$R
	ipv4_prefix does not change how IPv6 clients are grouped|ipv4_prefix 32|2001:db8:1:2::1|$S|$R|2001:db8:1:2::2|$S|$R
	"
}

@test "clients that are different networks" {
	each_row two_triplets "
	two clients in neighbouring IPv4 /24s are different networks by default||192.0.2.1|$S|$R|192.0.3.1|$S|$R
	an IPv6 client in a neighbouring /64 is another network||2001:db8:1:2::1|$S|$R|2001:db8:1:3::1|$S|$R
	ipv4_prefix 32 keeps the full address|ipv4_prefix 32|192.0.2.1|$S|$R|192.0.2.2|$S|$R
	ipv4_prefix 16 separates neighbouring /16s|ipv4_prefix 16|192.0.2.1|$S|$R|192.1.2.1|$S|$R
	ipv6_prefix 128 keeps the full address|ipv6_prefix 128|2001:db8:1:2::1|$S|$R|2001:db8:1:2::2|$S|$R
	"
}
