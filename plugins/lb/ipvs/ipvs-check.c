/* vxcloud-ipvs-check: the member health checker of one ipvs balancer,
 * started by the driver inside the balancer's namespace (execve, argv only)
 * and supervised by (PID, start time). Every interval it connects to each
 * member (TCP); after `fall` failures in a row the member's IPVS weight
 * goes to 0, after `rise` successes back to the spec's weight, over IPVS's
 * generic netlink family. The members it holds down are kept in DOWNFILE
 * (written before the kernel is changed, replaced whole by rename) so an
 * apply keeps them at 0 and a restarted checker starts from them.
 *
 * Usage: vxcloud-ipvs-check DOWNFILE TARGET...   (TARGET: see health.h) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <sys/socket.h>

#include "driver.h"
#include "health.h"

struct member {
	struct ipvs_target t;
	char key[96];
	int down, applied; /* applied: the kernel holds what `down` says */
	unsigned oks, fails;
	long long next_ms;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* 0 when a TCP connection to the member opens within its timeout. */
static int probe(const struct ipvs_target *t)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(t->port),
				  .sin_addr = t->addr };
	struct pollfd p = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0, r;

	p.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p.fd < 0)
		return -errno;
	r = connect(p.fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	if (r == -EINPROGRESS) {
		r = poll(&p, 1, (int)t->timeout_ms);
		r = r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 0;
		if (r == 0 && getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
			r = -err;
	}
	close(p.fd);
	return r;
}

static int write_down(const char *path, const struct member *m, size_t n)
{
	char tmp[4096];
	FILE *f;
	int r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	for (size_t i = 0; i < n; i++)
		if (m[i].down)
			fprintf(f, "%s\n", m[i].key);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	return r;
}

/* The members DOWNFILE names start down (a restart keeps what was found). */
static void read_down(const char *path, struct member *m, size_t n)
{
	char line[128];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		for (size_t i = 0; i < n; i++)
			if (!strcmp(line, m[i].key))
				m[i].down = 1;
	}
	fclose(f);
}

static int set_weight(struct ipvs_nl *nl, const struct member *m)
{
	struct ipvs_svc s = { .protocol = m->t.protocol, .addr = m->t.vip, .port = m->t.vport };
	struct ipvs_dest d = { .addr = m->t.addr, .port = m->t.port,
			       .weight = m->down ? 0 : m->t.weight, .fwd = IP_VS_CONN_F_MASQ };

	return ipvs_dest_set(nl, &s, &d);
}

/* One check of m; the state flips after rise/fall results in a row. */
static int check(struct member *m)
{
	int r = probe(&m->t);

	if (r == 0) {
		m->fails = 0;
		if (m->down && ++m->oks >= m->t.rise) {
			m->down = 0;
			printf("member %s: up\n", m->key);
			return 1;
		}
	} else {
		m->oks = 0;
		if (!m->down && ++m->fails >= m->t.fall) {
			m->down = 1;
			printf("member %s: down (%s)\n", m->key, strerror(-r));
			return 1;
		}
	}
	return 0;
}

static void run(const char *downfile, struct member *m, size_t n, struct ipvs_nl *nl)
{
	while (!stopping) {
		long long now = now_ms(), wake = now + 1000;
		int changed = 0;

		for (size_t i = 0; i < n && !stopping; i++) {
			if (now >= m[i].next_ms) {
				if (check(&m[i])) {
					m[i].applied = 0;
					changed = 1;
				}
				m[i].next_ms = now_ms() + m[i].t.interval_ms;
			}
			if (m[i].next_ms < wake)
				wake = m[i].next_ms;
		}
		if (changed && write_down(downfile, m, n) < 0)
			fprintf(stdout, "write %s: %s\n", downfile, strerror(errno));
		for (size_t i = 0; i < n; i++)
			if (!m[i].applied) {
				int r = set_weight(nl, &m[i]);

				m[i].applied = r == 0;
				if (r < 0)
					printf("member %s: set weight: %s\n", m[i].key, strerror(-r));
			}
		fflush(stdout);
		now = now_ms();
		if (wake > now)
			poll(NULL, 0, (int)(wake - now > 200 ? 200 : wake - now));
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct ipvs_nl *nl = NULL;
	struct member *m;
	size_t n = argc > 2 ? (size_t)argc - 2 : 0;
	int r;

	if (n == 0) {
		fprintf(stderr, "usage: vxcloud-ipvs-check DOWNFILE TARGET...\n");
		return 2;
	}
	m = calloc(n, sizeof(*m));
	if (!m)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (ipvs_target_parse(argv[i + 2], &m[i].t) < 0) {
			fprintf(stderr, "vxcloud-ipvs-check: bad target %s\n", argv[i + 2]);
			free(m);
			return 2;
		}
		ipvs_target_key(&m[i].t, m[i].key, sizeof(m[i].key));
		m[i].applied = 1; /* the driver applied the spec with the down file */
	}
	read_down(argv[1], m, n);
	r = ipvs_nl_open(&nl);
	if (r < 0) {
		fprintf(stderr, "vxcloud-ipvs-check: IPVS netlink: %s\n", strerror(-r));
		free(m);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("checking %zu members\n", n);
	fflush(stdout);
	run(argv[1], m, n, nl);
	ipvs_nl_close(nl);
	free(m);
	return 0;
}
