/* Member health of an ipvs balancer, shared by the driver (health.c) and
 * the checker program (ipvs-check.c): a target is one member of one
 * listener with its check settings, written on the checker's command line
 * as one argument; the checker keeps the members it found down in a file
 * the driver reads, one "PROTO VIP:PORT MEMBER:PORT" line each. */
#ifndef VXC_IPVS_HEALTH_H
#define VXC_IPVS_HEALTH_H

#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

struct ipvs_target {
	uint16_t protocol;          /* IPPROTO_TCP (the listener's) */
	struct in_addr vip, addr;
	uint16_t vport, port;       /* host order */
	uint32_t weight;            /* the spec's, restored on recovery */
	unsigned interval_ms, timeout_ms, rise, fall;
};

/* "tcp,VIP,VPORT,ADDR,PORT,WEIGHT,INTERVAL,TIMEOUT,RISE,FALL" */
#define IPVS_TARGET_MAX 160
int ipvs_target_format(const struct ipvs_target *t, char *buf, size_t size);
int ipvs_target_parse(const char *s, struct ipvs_target *t);
/* The down file's line naming t (no newline). */
void ipvs_target_key(const struct ipvs_target *t, char *buf, size_t size);

#endif
