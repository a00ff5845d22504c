/* What separates the running configuration from a new one. Servers'
 * weights and `disabled` flags can change through the runtime API; any
 * other difference needs a reload. Both texts come from render.c, so a
 * line-by-line comparison with those two fields masked is exact. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

struct srv_line {
	char name[48];
	char rest[128]; /* address and flags other than weight and disabled */
	unsigned weight;
	int enabled;
};

/* "    server NAME ADDR weight W[ check][ disabled]" */
static int parse_server(const char *line, size_t len, struct srv_line *s)
{
	char buf[256], addr[64];
	int check = 0, n = 0;

	if (len >= sizeof(buf) || strncmp(line, "    server ", 11))
		return 0;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (sscanf(buf, "    server %47s %63s weight %u%n", s->name, addr, &s->weight, &n) != 3)
		return 0;
	s->enabled = !strstr(buf + n, " disabled");
	check = strstr(buf + n, " check") != NULL;
	snprintf(s->rest, sizeof(s->rest), "%s%s", addr, check ? " check" : "");
	return 1;
}

static const char *next_line(const char *p, size_t *len)
{
	const char *nl = strchr(p, '\n');

	*len = nl ? (size_t)(nl - p) : strlen(p);
	return nl ? nl + 1 : p + *len;
}

static int add_srv(struct hap_diff *diff, const char *backend, const struct srv_line *s)
{
	struct hap_srv_state *v = realloc(diff->srv, (diff->n_srv + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	diff->srv = v;
	v += diff->n_srv++;
	memset(v, 0, sizeof(*v));
	snprintf(v->backend, sizeof(v->backend), "%s", backend);
	snprintf(v->server, sizeof(v->server), "%s", s->name);
	v->weight = s->weight;
	v->enabled = s->enabled;
	return 0;
}

/* One line of each: 1 when they differ beyond what the runtime API changes. */
static int compare(const char *a, size_t alen, const char *b, size_t blen, const char *backend,
		   struct hap_diff *diff, int *err)
{
	struct srv_line sa, sb;

	if (parse_server(a, alen, &sa) && parse_server(b, blen, &sb)) {
		if (strcmp(sa.name, sb.name) || strcmp(sa.rest, sb.rest))
			return 1;
		if (sa.weight != sb.weight || sa.enabled != sb.enabled)
			*err = add_srv(diff, backend, &sb);
		return 0;
	}
	return alen != blen || memcmp(a, b, alen);
}

int hap_diff(const char *old_cfg, const char *new_cfg, struct hap_diff *diff)
{
	const char *a = old_cfg, *b = new_cfg;
	char backend[32] = "";
	int err = 0;

	memset(diff, 0, sizeof(*diff));
	while (!err && !diff->structural && (*a || *b)) {
		size_t alen, blen;
		const char *la = a, *lb = b;

		a = next_line(a, &alen);
		b = next_line(b, &blen);
		if (blen > 8 && !strncmp(lb, "backend ", 8))
			snprintf(backend, sizeof(backend), "%.*s", (int)(blen - 8), lb + 8);
		diff->structural = compare(la, alen, lb, blen, backend, diff, &err);
	}
	if (err)
		hap_diff_free(diff);
	return err;
}

void hap_diff_free(struct hap_diff *diff)
{
	free(diff->srv);
	memset(diff, 0, sizeof(*diff));
}

int hap_cfg_servers(const char *cfg, int (*cb)(void *arg, const struct hap_srv_state *s),
		    void *arg)
{
	char backend[32] = "";
	const char *p = cfg;
	int r = 0;

	while (r == 0 && *p) {
		struct hap_srv_state st = { 0 };
		struct srv_line sl;
		const char *line = p;
		size_t len;

		p = next_line(p, &len);
		if (len > 8 && !strncmp(line, "backend ", 8))
			snprintf(backend, sizeof(backend), "%.*s", (int)(len - 8), line + 8);
		if (!parse_server(line, len, &sl))
			continue;
		snprintf(st.backend, sizeof(st.backend), "%s", backend);
		snprintf(st.server, sizeof(st.server), "%s", sl.name);
		st.weight = sl.weight;
		st.enabled = sl.enabled;
		r = cb(arg, &st);
	}
	return r;
}
