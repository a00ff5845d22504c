/* What the provider step did to interfaces vxcloud does not own, kept in
 * the driver's state directory so that only that is ever undone:
 *   provider.uplink  "NAME MTU BRIDGE JOINED": the uplink vxcloud changed,
 *                    its MTU before, the bridge it was put in, and whether
 *                    vxcloud enslaved it (1) or only changed its MTU (0)
 *   provider.bridge  "BRIDGE": a bridge that existed before vxcloud used it */
#ifndef LBR_RECORD_H
#define LBR_RECORD_H

#include "lbr.h"

struct lbr_uplink_rec {
	char name[VXC_IFNAMSIZ];
	char bridge[VXC_IFNAMSIZ];
	unsigned mtu;
	int joined;
};

/* 1 and *r, 0 when there is no record, or -errno (reported). */
int lbr_uplink_rec_read(struct lbr *p, struct lbr_uplink_rec *r);
int lbr_uplink_rec_write(struct lbr *p, const struct lbr_uplink_rec *r);
int lbr_uplink_rec_forget(struct lbr *p);
/* recover.c: a damaged uplink record (why: what was wrong) rebuilt from the
 * kernel, warned: 1 and *r (written back), 0 when nothing is to be found. */
int lbr_uplink_rec_rebuild(struct lbr *p, const char *why, struct lbr_uplink_rec *r);
/* Undoes what the record says vxcloud did to its uplink: it leaves the
 * bridge vxcloud put it in and gets its MTU back; then the record goes.
 * *ifindex: the uplink's (0 when it is gone or there is no record). */
int lbr_uplink_release(struct lbr *p, unsigned flags, int *ifindex);

/* The same for a bridge vxcloud adopted. */
int lbr_adopted_read(struct lbr *p, char bridge[VXC_IFNAMSIZ]);
int lbr_adopted_write(struct lbr *p, const char *bridge);
int lbr_adopted_forget(struct lbr *p);

#endif
