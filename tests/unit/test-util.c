#include "config.h"

#include <arpa/inet.h>

#include "tap.h"
#include "util.h"

int main(void)
{
	struct vxc_prefix p, q;
	struct in_addr a;
	struct vxc_mac m;
	char buf[VXC_MACSTR];

	ok(vxc_prefix_parse("192.168.100.0/24", &p) == 0, "parse a prefix");
	ok(p.len == 24, "prefix length");
	ok(vxc_prefix_parse("192.168.100.1/24", &p) < 0, "host bits set are refused");
	ok(vxc_prefix_parse("192.168.100.0/33", &p) < 0, "length over 32 refused");
	ok(vxc_prefix_parse("192.168.100.0", &p) < 0, "missing length refused");
	ok(vxc_prefix_parse("10.0.0.0/", &p) < 0, "empty length refused");
	vxc_prefix_parse("10.0.0.0/8", &p);
	vxc_ip_parse("10.1.2.3", &a);
	ok(vxc_prefix_contains(&p, a), "10.1.2.3 in 10/8");
	vxc_ip_parse("11.1.2.3", &a);
	ok(!vxc_prefix_contains(&p, a), "11.1.2.3 not in 10/8");
	vxc_prefix_parse("10.20.0.0/16", &q);
	ok(vxc_prefix_overlap(&p, &q), "10/8 overlaps 10.20/16");
	vxc_prefix_parse("192.168.0.0/16", &q);
	ok(!vxc_prefix_overlap(&p, &q), "10/8 does not overlap 192.168/16");
	ok(vxc_mac_parse("02:00:5e:10:00:0a", &m) == 0, "parse a MAC");
	is_str(vxc_mac_str(&m, buf), "02:00:5e:10:00:0a", "MAC round trip");
	ok(vxc_mac_parse("02:00:5e:10:00", &m) < 0, "short MAC refused");
	ok(vxc_mac_parse("02:00:5e:10:00:0a:", &m) < 0, "trailing junk refused");
	return tap_done();
}
