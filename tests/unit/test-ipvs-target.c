/* lb/ipvs's health targets as text (plugins/lb/ipvs/target.c): what the
 * driver writes on the checker's command line the checker reads back the
 * same, and anything else is refused rather than half read. */
#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <string.h>

#include "health.h"
#include "tap.h"

static struct ipvs_target sample(void)
{
	struct ipvs_target t = { .protocol = IPPROTO_TCP, .vport = 80, .port = 9898,
				 .weight = 3, .interval_ms = 500, .timeout_ms = 400, .rise = 2,
				 .fall = 3 };

	inet_pton(AF_INET, "192.168.100.8", &t.vip);
	inet_pton(AF_INET, "192.168.100.6", &t.addr);
	return t;
}

static int same(const struct ipvs_target *a, const struct ipvs_target *b)
{
	return a->protocol == b->protocol && a->vip.s_addr == b->vip.s_addr &&
	       a->addr.s_addr == b->addr.s_addr && a->vport == b->vport && a->port == b->port &&
	       a->weight == b->weight && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->rise == b->rise && a->fall == b->fall;
}

static int refused(const char *s)
{
	struct ipvs_target t;

	return ipvs_target_parse(s, &t) < 0;
}

int main(void)
{
	struct ipvs_target t = sample(), back;
	char text[IPVS_TARGET_MAX], key[96], tiny[8], longer[300];

	ok(ipvs_target_format(&t, text, sizeof(text)) == 0, "format a target");
	is_str(text, "tcp,192.168.100.8,80,192.168.100.6,9898,3,500,400,2,3", "its text");
	ok(ipvs_target_parse(text, &back) == 0 && same(&back, &t),
	   "parsed back, the same target");
	ipvs_target_key(&t, key, sizeof(key));
	is_str(key, "tcp 192.168.100.8:80 192.168.100.6:9898", "the down file's key");
	ok(ipvs_target_format(&t, tiny, sizeof(tiny)) == -ENAMETOOLONG,
	   "a buffer too small is an error, not a cut target");

	ok(refused("udp,192.168.100.8,53,192.168.100.6,53,1,500,400,2,3"), "udp refused");
	ok(refused("tcp,192.168.100.8,80,192.168.100.6,9898,3,500,400,2"), "a field missing");
	ok(refused("tcp,192.168.100.8,80,192.168.100.6,9898,3,500,400,2,3,9"), "a field extra");
	ok(refused("tcp,192.168.100.8,80,192.168.100.6,65536,3,500,400,2,3"), "port over 65535");
	ok(refused("tcp,192.168.100.8,80,192.168.100.6,9898,3,0,400,2,3"), "interval 0");
	ok(refused("tcp,192.168.100.8,80,192.168.100.6,9898,3,500,400,0,3"), "rise 0");
	ok(refused("tcp,192.168.100.999,80,192.168.100.6,9898,3,500,400,2,3"), "a bad VIP");
	ok(refused("tcp,192.168.100.8,80,web1,9898,3,500,400,2,3"), "a name, not an address");
	ok(refused("tcp,192.168.100.8,80,192.168.100.6,-1,3,500,400,2,3"), "a negative port");
	ok(refused("tcp,192.168.100.8,80,192.168.100.6,9898,3,500x,400,2,3"), "trailing text");
	ok(refused("tcp,192.168.100.8,,192.168.100.6,9898,3,500,400,2,3"), "an empty field");
	memset(longer, '1', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer, "tcp,", 4);
	ok(refused(longer), "an overlong argument");
	return tap_done();
}
