/* A health target as text: the checker's arguments and the down file's
 * keys (health.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "health.h"

int ipvs_target_format(const struct ipvs_target *t, char *buf, size_t size)
{
	char vip[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN];
	int n;

	inet_ntop(AF_INET, &t->vip, vip, sizeof(vip));
	inet_ntop(AF_INET, &t->addr, addr, sizeof(addr));
	n = snprintf(buf, size, "tcp,%s,%u,%s,%u,%u,%u,%u,%u,%u", vip, t->vport, addr, t->port,
		     t->weight, t->interval_ms, t->timeout_ms, t->rise, t->fall);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int number(char **p, unsigned long max, unsigned long *v)
{
	char *tok = strsep(p, ","), *end;

	if (!tok || !*tok)
		return -EINVAL;
	errno = 0;
	*v = strtoul(tok, &end, 10);
	return *end || errno || *v > max ? -EINVAL : 0;
}

static int address(char **p, struct in_addr *a)
{
	char *tok = strsep(p, ",");

	return tok && inet_pton(AF_INET, tok, a) == 1 ? 0 : -EINVAL;
}

int ipvs_target_parse(const char *s, struct ipvs_target *t)
{
	char buf[IPVS_TARGET_MAX], *p = buf;
	unsigned long v[8];
	int r;

	if (strlen(s) >= sizeof(buf) || strncmp(s, "tcp,", 4))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s + 4);
	memset(t, 0, sizeof(*t));
	t->protocol = IPPROTO_TCP;
	r = address(&p, &t->vip);
	r = r ?: number(&p, 65535, &v[0]);
	r = r ?: address(&p, &t->addr);
	r = r ?: number(&p, 65535, &v[1]);
	r = r ?: number(&p, 65535, &v[2]);
	for (int i = 3; r == 0 && i < 7; i++)
		r = number(&p, 3600000, &v[i]);
	if (r < 0 || p || !v[3] || !v[4] || !v[5] || !v[6])
		return -EINVAL;
	t->vport = (uint16_t)v[0];
	t->port = (uint16_t)v[1];
	t->weight = (uint32_t)v[2];
	t->interval_ms = (unsigned)v[3];
	t->timeout_ms = (unsigned)v[4];
	t->rise = (unsigned)v[5];
	t->fall = (unsigned)v[6];
	return 0;
}

void ipvs_target_key(const struct ipvs_target *t, char *buf, size_t size)
{
	char vip[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &t->vip, vip, sizeof(vip));
	inet_ntop(AF_INET, &t->addr, addr, sizeof(addr));
	snprintf(buf, size, "tcp %s:%u %s:%u", vip, t->vport, addr, t->port);
}
