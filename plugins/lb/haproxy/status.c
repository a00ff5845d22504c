/* lb_status: what haproxy itself reports, for `vxcloud status`: the
 * master and its worker (master CLI), each listener and each member's
 * state and last check (the runtime API's `show stat`). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

enum { C_PX, C_SV, C_SCUR, C_STATUS, C_WEIGHT, C_CHECK, C_ADDR, C_N };
static const char *const wanted[C_N] = { "pxname", "svname", "scur", "status", "weight",
					 "check_status", "addr" };

struct row {
	const char *f[C_N];
};

/* Column numbers of the wanted fields, from "# pxname,svname,..." */
static void header(char *line, int col[C_N])
{
	int i = 0;

	for (int k = 0; k < C_N; k++)
		col[k] = -1;
	for (char *tok = strtok(line + 2, ","); tok; tok = strtok(NULL, ","), i++)
		for (int k = 0; k < C_N; k++)
			if (!strcmp(tok, wanted[k]))
				col[k] = i;
}

static void split(char *line, const int col[C_N], struct row *r)
{
	int i = 0;

	for (int k = 0; k < C_N; k++)
		r->f[k] = "";
	for (char *p = line, *c; p; p = c ? c + 1 : NULL, i++) {
		c = strchr(p, ',');
		if (c)
			*c = '\0';
		for (int k = 0; k < C_N; k++)
			if (col[k] == i)
				r->f[k] = p;
	}
}

static void report_row(const struct row *r, void (*cb)(void *, const char *), void *arg)
{
	char line[256];

	if (!strcmp(r->f[C_SV], "FRONTEND"))
		snprintf(line, sizeof(line), "listener %s: %s, %s connections", r->f[C_PX],
			 r->f[C_STATUS], r->f[C_SCUR]);
	else if (!strcmp(r->f[C_SV], "BACKEND"))
		return;
	else
		snprintf(line, sizeof(line), "member %s (%s/%s): %s, weight %s%s%s, %s connections",
			 r->f[C_ADDR], r->f[C_PX], r->f[C_SV], r->f[C_STATUS], r->f[C_WEIGHT],
			 *r->f[C_CHECK] ? ", check " : "", r->f[C_CHECK], r->f[C_SCUR]);
	cb(arg, line);
}

static int report_stats(struct hap_drv *d, const struct hap_paths *p,
			void (*cb)(void *, const char *), void *arg)
{
	char *ans, *save = NULL;
	int col[C_N], r = hap_cli(d, p->stats, "show stat", &ans), have_header = 0;

	if (r < 0)
		return r;
	for (char *line = strtok_r(ans, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct row row;

		if (!strncmp(line, "# ", 2)) {
			header(line, col);
			have_header = col[C_PX] >= 0 && col[C_SV] >= 0;
		} else if (have_header) {
			split(line, col, &row);
			report_row(&row, cb, arg);
		}
	}
	free(ans);
	return 0;
}

/* Which copy this is, and whether it holds the VIP. */
static void ha_status(struct hap_drv *d, const struct vxc_lb *lb,
		      void (*cb)(void *arg, const char *line), void *arg)
{
	int fd;

	if (!lb_ha(d->svc, lb))
		return;
	fd = d->svc->netns_open(d->ctx, lb->netns);
	lb_ha_status(d->ctx, d->svc, lb, fd, cb, arg);
	if (fd >= 0)
		close(fd);
}

int hap_lb_status(void *priv, const struct vxc_lb *lb, void (*cb)(void *arg, const char *line),
		  void *arg)
{
	struct hap_drv *d = priv;
	struct hap_paths p;
	char line[512];
	pid_t master, worker = 0;
	int r = hap_check_lb(d, lb);

	if (r == 0)
		r = hap_paths(d, lb->name, &p);
	if (r < 0)
		return r;
	ha_status(d, lb, cb, arg);
	if (hap_master_pid(d, &p, &master) < 0) {
		cb(arg, "haproxy: not running");
		return 0;
	}
	hap_worker_pid(d, &p, &worker);
	snprintf(line, sizeof(line), "haproxy: master PID %d, worker PID %d, in netns %s",
		 (int)master, (int)worker, lb->netns);
	cb(arg, line);
	r = report_stats(d, &p, cb, arg);
	if (r < 0) {
		snprintf(line, sizeof(line), "runtime API %s: %s", p.stats, strerror(-r));
		cb(arg, line);
	}
	return 0;
}
