/* DHCP for tenant networks (dhcp = true): one dnsmasq per network, started
 * by execve inside the namespace of the network's router, bound to the
 * router's port on that network (it holds the gateway address, so replies
 * come from the gateway). Static reservations only: one per port of the
 * network (instances and load balancers on every host, MAC -> the spec's
 * address), no dynamic pool; options: router (the gateway), interface MTU
 * and the spec's DNS servers.
 *
 * Files, in <state_dir>/dhcp/, named <router>.<network>.*:
 *   .conf   the generated configuration (a change restarts dnsmasq)
 *   .hosts  the reservations (a change is written and dnsmasq re-reads it
 *           on SIGHUP: no restart)
 *   .pid    "PID" of the supervised dnsmasq
 *   .leases .log  its lease file and its output
 * A router's dnsmasq processes go with the router (or with dhcp = false),
 * and a record left without its namespace still names them (list). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lbr.h"

#define DNSMASQ "dnsmasq"
#define STOP_TIMEOUT_MS 3000

/* The core fills the ABI 1.5 network fields (dhcp, dns, ports). */
static int core_has_dhcp(const struct lbr *p)
{
	return p->svc->size >= offsetof(struct vxc_services, abi_minor) + sizeof(uint32_t) &&
	       p->svc->abi_minor >= 5;
}

/* <state_dir>/dhcp, made when create is set (reading never makes it). */
static char *dhcp_dir(struct lbr *p, int create)
{
	const char *state = p->svc->state_dir(p->ctx);
	char *dir;

	if (!state || asprintf(&dir, "%s/dhcp", state) < 0)
		return NULL;
	if (create && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		free(dir);
		return NULL;
	}
	return dir;
}

static char *dhcp_file(struct lbr *p, const char *router, const char *net, const char *ext)
{
	char *dir = dhcp_dir(p, 1), *path = NULL;

	if (dir && asprintf(&path, "%s/%s.%s.%s", dir, router, net, ext) < 0)
		path = NULL;
	free(dir);
	return path;
}

/* The whole content of path (caller frees), or NULL when absent. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	{
		FILE *m = open_memstream(&buf, &len);
		char chunk[4096];
		size_t n;

		while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, m);
		if (m)
			fclose(m);
	}
	fclose(f);
	return buf;
}

/* Written to a temporary file and renamed: dnsmasq never reads half. */
static int write_file(struct lbr *p, const char *who, const char *path, const char *text)
{
	char *tmp;
	FILE *f;
	int err = 0;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return lbr_error(p, -ENOMEM, "%s: out of memory", who);
	f = fopen(tmp, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
		err = lbr_error(p, -errno, "%s: write %s: %s", who, path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return err;
}

/* ---- the generated files ------------------------------------------- */

static char *make_conf(const struct vxc_network *net, const char *ifname, const char *hosts,
		       const char *leases)
{
	char ip[LBR_IPSTR], mask[LBR_IPSTR], *buf = NULL;
	size_t len = 0;
	struct in_addr m = { htonl(net->cidr.len ? ~0u << (32 - net->cidr.len) : 0) };
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "# written by vxcloud (network driver linuxbridge): DHCP of network %s\n",
		net->name);
	fprintf(f, "interface=%s\nbind-interfaces\nexcept-interface=lo\n", ifname);
	fprintf(f, "port=0\nno-resolv\nno-hosts\ndhcp-authoritative\nlog-dhcp\n");
	fprintf(f, "dhcp-range=%s,static,%s,1h\n", lbr_ip_str(net->cidr.addr, ip),
		lbr_ip_str(m, mask));
	fprintf(f, "dhcp-hostsfile=%s\ndhcp-leasefile=%s\n", hosts, leases);
	fprintf(f, "dhcp-option=option:router,%s\n", lbr_ip_str(net->gateway, ip));
	fprintf(f, "dhcp-option=option:mtu,%u\n", lbr_net_mtu(net));
	fprintf(f, "dhcp-option=option:dns-server");
	for (size_t i = 0; i < net->n_dns; i++)
		fprintf(f, ",%s", lbr_ip_str(net->dns[i], ip));
	fprintf(f, "\n");
	return fclose(f) == 0 ? buf : (free(buf), NULL);
}

/* One line per port that is not a router's: MAC,address,name. */
static char *make_hosts(const struct vxc_network *net)
{
	char ip[LBR_IPSTR], mac[LBR_MACSTR], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < net->n_ports; i++) {
		const struct vxc_port *port = net->ports[i];

		if (port->owner_kind == VXC_PORT_ROUTER)
			continue;
		fprintf(f, "%s,%s,%s\n", lbr_mac_str(port->mac.b, mac),
			lbr_ip_str(port->addr, ip), port->owner);
	}
	return fclose(f) == 0 ? buf : (free(buf), NULL);
}

/* ---- the process ----------------------------------------------------- */

static pid_t rec_pid(struct lbr *p, const char *router, const char *net)
{
	char *path = dhcp_file(p, router, net, "pid"), *text = path ? slurp(path) : NULL;
	long pid = text ? strtol(text, NULL, 10) : 0;

	free(path);
	free(text);
	return pid > 0 && p->svc->proc_alive(p->ctx, (pid_t)pid, DNSMASQ) == 1 ? (pid_t)pid : 0;
}

static int start(struct lbr *p, const char *who, int nsfd, const char *router,
		 const struct vxc_network *net)
{
	char *conf = dhcp_file(p, router, net->name, "conf");
	char *log = dhcp_file(p, router, net->name, "log");
	char *pidf = dhcp_file(p, router, net->name, "pid"), *arg = NULL, num[16];
	const char *argv[] = { DNSMASQ, "--keep-in-foreground", "--log-facility=-", NULL, NULL };
	struct vxc_spawn sp = { .argv = argv, .netns_fd = nsfd, .log_path = log };
	pid_t pid = 0;
	int err = -ENOMEM;

	if (conf && log && pidf && asprintf(&arg, "--conf-file=%s", conf) >= 0) {
		argv[3] = arg;
		err = p->svc->spawn(p->ctx, &sp, &pid);
		if (err < 0)
			err = lbr_error(p, err, "%s: cannot start dnsmasq: %s", who, strerror(-err));
	}
	if (err == 0) {
		snprintf(num, sizeof(num), "%d\n", (int)pid);
		err = write_file(p, who, pidf, num);
	}
	free(arg);
	free(conf);
	free(log);
	free(pidf);
	return err;
}

static void unlink_files(struct lbr *p, const char *router, const char *net)
{
	static const char *const exts[] = { "pid", "conf", "hosts", "leases", "log" };

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		char *path = dhcp_file(p, router, net, exts[i]);

		if (path)
			unlink(path);
		free(path);
	}
}

static int stop(struct lbr *p, const char *router, const char *net, unsigned flags)
{
	pid_t pid = rec_pid(p, router, net);
	int err = 0;

	lbr_change(p, "network %s: stop DHCP server (dnsmasq%s) in router %s", net,
		   pid ? "" : ", no longer running", router);
	if (lbr_dry(flags))
		return 0;
	if (pid)
		err = p->svc->proc_stop(p->ctx, pid, STOP_TIMEOUT_MS);
	if (err < 0)
		return lbr_error(p, err, "network %s: cannot stop dnsmasq (PID %d): %s", net,
				 (int)pid, strerror(-err));
	unlink_files(p, router, net);
	return 0;
}

/* ---- one network ------------------------------------------------------ */

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Files as wanted; *restart when the configuration changed, *reload when
 * only the reservations did. */
static int sync_files(struct lbr *p, const char *who, const char *router,
		      const struct vxc_network *net, const char *ifname, unsigned flags,
		      int *restart, int *reload)
{
	char *confp = dhcp_file(p, router, net->name, "conf");
	char *hostsp = dhcp_file(p, router, net->name, "hosts");
	char *leasep = dhcp_file(p, router, net->name, "leases");
	char *conf = NULL, *hosts = NULL, *have_conf = NULL, *have_hosts = NULL;
	int err = 0;

	if (!confp || !hostsp || !leasep || !(conf = make_conf(net, ifname, hostsp, leasep)) ||
	    !(hosts = make_hosts(net))) {
		err = lbr_error(p, -ENOMEM, "%s: no state directory or out of memory", who);
		goto out;
	}
	have_conf = slurp(confp);
	have_hosts = slurp(hostsp);
	*restart = !have_conf || strcmp(conf, have_conf);
	*reload = !have_hosts || strcmp(hosts, have_hosts);
	if (*reload)
		lbr_change(p, "%s: write %zu DHCP reservation(s)", who, count_lines(hosts));
	if (lbr_dry(flags))
		goto out;
	if (*reload)
		err = write_file(p, who, hostsp, hosts);
	if (!err && *restart)
		err = write_file(p, who, confp, conf);
out:
	free(confp);
	free(hostsp);
	free(leasep);
	free(conf);
	free(hosts);
	free(have_conf);
	free(have_hosts);
	return err;
}

static int ensure_net(struct lbr *p, const struct vxc_router *r, int nsfd,
		      const struct vxc_network *net, unsigned flags)
{
	char who[LBR_WHO_MAX], ifname[VXC_IFNAMSIZ];
	int restart = 0, reload = 0, err;
	pid_t pid;

	snprintf(who, sizeof(who), "network %s: DHCP in router %s", net->name, r->name);
	snprintf(ifname, sizeof(ifname), "t-%s", net->name);
	err = sync_files(p, who, r->name, net, ifname, flags, &restart, &reload);
	if (err < 0)
		return err;
	pid = lbr_dry(flags) && nsfd < 0 ? 0 : rec_pid(p, r->name, net->name);
	if (pid && !restart) {
		if (reload && !lbr_dry(flags) && kill(pid, SIGHUP) < 0)
			return lbr_error(p, -errno, "%s: cannot signal dnsmasq (PID %d): %s", who,
					 (int)pid, strerror(errno));
		if (reload)
			lbr_change(p, "%s: dnsmasq (PID %d) re-reads its reservations", who,
				   (int)pid);
		return 0;
	}
	lbr_change(p, "%s: %s dnsmasq", who,
		   pid ? "restart (configuration changed)" : "start");
	if (lbr_dry(flags))
		return 0;
	if (pid && (err = p->svc->proc_stop(p->ctx, pid, STOP_TIMEOUT_MS)) < 0)
		return lbr_error(p, err, "%s: cannot stop dnsmasq (PID %d): %s", who, (int)pid,
				 strerror(-err));
	return start(p, who, nsfd, r->name, net);
}

static int wants_dhcp(const struct lbr *p, const struct vxc_router *r, const char *net)
{
	if (!core_has_dhcp(p))
		return 0;
	for (size_t i = 0; r && i < r->n_ports; i++)
		if (r->ports[i]->network->dhcp && !strcmp(r->ports[i]->network->name, net))
			return 1;
	return 0;
}

/* Calls fn for every record (.pid file) of router (any router: NULL). */
static int foreach_record(struct lbr *p, const char *router,
			  int (*fn)(struct lbr *, const char *router, const char *net, void *),
			  void *arg)
{
	char *dir = dhcp_dir(p, 0);
	struct dirent *de;
	DIR *dh;
	int err = 0;

	if (!dir || !(dh = opendir(dir))) {
		free(dir);
		return 0;
	}
	while (!err && (de = readdir(dh))) {
		char name[256], *dot, *ext;

		snprintf(name, sizeof(name), "%s", de->d_name);
		ext = strrchr(name, '.');
		if (!ext || strcmp(ext, ".pid") || !(dot = strchr(name, '.')) || dot == ext)
			continue;
		*ext = '\0';
		*dot = '\0';
		if (!router || !strcmp(name, router))
			err = fn(p, name, dot + 1, arg);
	}
	closedir(dh);
	free(dir);
	return err;
}

struct stale_arg {
	const struct vxc_router *r;
	unsigned flags;
};

static int stop_stale(struct lbr *p, const char *router, const char *net, void *arg)
{
	struct stale_arg *a = arg;

	return wants_dhcp(p, a->r, net) ? 0 : stop(p, router, net, a->flags);
}

int lbr_dhcp_ensure(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags)
{
	struct stale_arg a = { r, flags };
	int err = foreach_record(p, r->name, stop_stale, &a);

	for (size_t i = 0; !err && i < r->n_ports; i++)
		if (wants_dhcp(p, r, r->ports[i]->network->name))
			err = ensure_net(p, r, nsfd, r->ports[i]->network, flags);
	return err;
}

int lbr_dhcp_remove(struct lbr *p, const char *router, unsigned flags)
{
	struct stale_arg a = { NULL, flags };

	return foreach_record(p, router, stop_stale, &a);
}

struct list_arg {
	void (*cb)(void *arg, const char *router);
	void *arg;
};

static int list_one(struct lbr *p, const char *router, const char *net, void *arg)
{
	struct list_arg *a = arg;

	(void)p;
	(void)net;
	a->cb(a->arg, router);
	return 0;
}

int lbr_dhcp_list(struct lbr *p, void (*cb)(void *arg, const char *router), void *arg)
{
	struct list_arg a = { cb, arg };

	return foreach_record(p, NULL, list_one, &a);
}
