/* High availability in the spec: a router or load balancer placed on two or
 * more hosts (`hosts = ["h1", "h2"];` instead of `host`), with an optional
 * `ha` group (advert_ms, preempt, vrid). The copies share their addresses by
 * VRRP; each HA object gets one virtual router ID, unique cloud-wide because
 * every copy's adverts cross the same provider network. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "spec_int.h"
#include "util.h"

#define VRID_MAX 255

static const struct sp_key ha_keys[] = {
	{ "advert_ms", SP_INT, false, NULL },
	{ "preempt", SP_BOOL, false, NULL },
	{ "vrid", SP_INT, false, NULL },
	{ NULL, 0, false, NULL },
};

static void parse_hosts_list(struct sp *sp, struct sp_obj *o, const char *what,
			     const struct vxc_cfg_node *l, struct sp_ha *ha)
{
	size_t n = (size_t)vxc_cfg_length(l);

	if (n < 2 || n > SP_HA_HOSTS_MAX) {
		sp_err(sp, o, "hosts", "%s \"%s\": hosts lists the %d to %d hosts holding a copy; "
		       "for one host write host = \"NAME\";", what, sp_nm(o), 2, SP_HA_HOSTS_MAX);
		return;
	}
	ha->hosts = vxc_xcalloc(n, sizeof(*ha->hosts));
	ha->n_hosts = n;
	for (size_t i = 0; i < n; i++) {
		const struct vxc_cfg_node *e = vxc_cfg_elem(l, (unsigned)i);
		struct sp_ref *ref = &ha->hosts[i];

		sp_elem_obj(&ref->at, o, e, "hosts", i);
		ref->idx = -1;
		if (vxc_cfg_type(e) == VXC_CFG_STRING)
			ref->at.name = vxc_cfg_string(e);
		else
			sp_err(sp, &ref->at, NULL, "must be a host name in quotes, not %s",
			       sp_have_name(e));
	}
}

static void parse_ha_group(struct sp *sp, struct sp_obj *o, const char *what, struct sp_ha *ha)
{
	struct sp_obj *g = &ha->grp;

	ha->advert_ms = SP_HA_ADVERT_DEF;
	ha->preempt = true;
	sp_child_obj(g, o, sp_member(o, "ha", SP_GROUP), "ha");
	if (!g->cs)
		return;
	if (!ha->n_hosts && sp_member(o, "host", SP_STR))
		sp_err(sp, o, "ha", "%s \"%s\": ha settings need two or more hosts; write "
		       "hosts = [\"h1\", \"h2\"]; instead of host", what, sp_nm(o));
	sp_check_keys(sp, g, "ha", ha_keys);
	/* VRRPv3 counts the interval in centiseconds, up to 4095 */
	if (sp_get_uint(sp, g, "advert_ms", 10, 40950, SP_HA_ADVERT_DEF, &ha->advert_ms) &&
	    ha->advert_ms % 10)
		sp_err(sp, g, "advert_ms", "%s \"%s\": advert_ms %u is not a multiple of 10 "
		       "(VRRP counts centiseconds)", what, sp_nm(o), ha->advert_ms);
	ha->preempt = sp_get_bool(g, "preempt", true);
	ha->vrid_given = sp_member(g, "vrid", SP_INT) != NULL;
	if (!sp_get_uint(sp, g, "vrid", 1, VRID_MAX, 0, &ha->vrid))
		ha->vrid_given = false;
}

void sp_parse_placement(struct sp *sp, struct sp_obj *o, const char *what, struct sp_ref *host,
			struct sp_ha *ha)
{
	const struct vxc_cfg_node *l = sp_member(o, "hosts", SP_STRS);

	memset(ha, 0, sizeof(*ha));
	sp_get_ref(o, "host", host);
	if (l && sp_setting(o, "host"))
		sp_err(sp, o, "hosts", "%s \"%s\": give host (one copy) or hosts (copies sharing "
		       "their addresses), not both", what, sp_nm(o));
	else if (l)
		parse_hosts_list(sp, o, what, l, ha);
	else if (!sp_setting(o, "host") && !sp_setting(o, "hosts"))
		sp_err(sp, o, NULL, "%s \"%s\" needs a host: host = \"net1\"; or, for copies "
		       "sharing their addresses, hosts = [\"net1\", \"net2\"];", what, sp_nm(o));
	if (ha->n_hosts) {
		*host = ha->hosts[0];
		host->at.name = ha->hosts[0].at.name;
	}
	parse_ha_group(sp, o, what, ha);
}

void sp_check_ha_hosts(struct sp *sp, const struct sp_obj *o, struct sp_ha *ha)
{
	for (size_t i = 1; i < ha->n_hosts; i++)
		for (size_t j = 0; j < i; j++)
			if (ha->hosts[i].idx >= 0 && ha->hosts[i].idx == ha->hosts[j].idx) {
				sp_err(sp, &ha->hosts[i].at, NULL, "\"%s\": host \"%s\" is listed "
				       "twice (also hosts[%zu]); each copy needs its own host",
				       sp_nm(o), ha->hosts[i].at.name, j);
				break;
			}
}

/* ---- virtual router IDs ---------------------------------------------- */

struct vrid_user {
	struct sp_ha *ha;
	const struct sp_obj *o;
	const char *kind;
};

static size_t ha_users(struct sp *sp, struct vrid_user *u)
{
	size_t n = 0;

	for (size_t i = 0; i < sp->n_routers; i++)
		if (sp->routers[i].o.parsed && sp->routers[i].ha.n_hosts)
			u[n++] = (struct vrid_user){ &sp->routers[i].ha, &sp->routers[i].o,
						     "router" };
	for (size_t i = 0; i < sp->n_lbs; i++)
		if (sp->lbs[i].o.parsed && sp->lbs[i].ha.n_hosts)
			u[n++] = (struct vrid_user){ &sp->lbs[i].ha, &sp->lbs[i].o,
						     "load balancer" };
	return n;
}

/* Given IDs first, so an allocated one never takes an ID written later. */
static void claim_given(struct sp *sp, struct vrid_user *u, size_t n,
			const struct vrid_user **owner)
{
	for (size_t i = 0; i < n; i++) {
		const struct vrid_user *prev;

		if (!u[i].ha->vrid_given)
			continue;
		prev = owner[u[i].ha->vrid];
		if (prev)
			sp_err(sp, &u[i].ha->grp, "vrid", "%s \"%s\": vrid %u is already taken by "
			       "%s \"%s\"; virtual router IDs are unique in the cloud", u[i].kind,
			       sp_nm(u[i].o), u[i].ha->vrid, prev->kind, sp_nm(prev->o));
		else
			owner[u[i].ha->vrid] = &u[i];
	}
}

void sp_alloc_vrids(struct sp *sp)
{
	struct vrid_user *u = vxc_xcalloc(sp->n_routers + sp->n_lbs + 1, sizeof(*u));
	const struct vrid_user *owner[VRID_MAX + 1] = { 0 };
	size_t n = ha_users(sp, u);
	unsigned next = 1;

	claim_given(sp, u, n, owner);
	for (size_t i = 0; i < n; i++) {
		if (u[i].ha->vrid_given)
			continue;
		while (next <= VRID_MAX && owner[next])
			next++;
		if (next > VRID_MAX) {
			sp_err(sp, u[i].o, "hosts", "%s \"%s\": no virtual router ID left; VRRP has "
			       "255 and the cloud's HA routers and balancers need more", u[i].kind,
			       sp_nm(u[i].o));
			break;
		}
		u[i].ha->vrid = next;
		owner[next] = &u[i];
	}
	free(u);
}
