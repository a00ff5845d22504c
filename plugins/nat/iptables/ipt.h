/* nat/iptables internals. In table nat of each router namespace, three
 * chains of vxcloud's own (the "vxc-" prefix is the ownership mark), each
 * reached by one jump rule from its built-in chain:
 *
 *   PREROUTING  -j vxc-pre    -d FIP -j DNAT --to-destination TARGET
 *   OUTPUT      -j vxc-out    -d FIP -j DNAT --to-destination TARGET
 *   POSTROUTING -j vxc-post   ! -o GW -m conntrack ! --ctstate DNAT -j RETURN
 *                             -s TARGET -j SNAT --to-source FIP
 *                             -s NET -o GW -j SNAT --to-source EXT   (snat)
 *                             -s NET -m conntrack --ctstate DNAT -j SNAT
 *                                --to-source EXT                     (hairpin)
 *
 * The same semantics as nat/nftables, rule for rule. Built-in chains are
 * never flushed; foreign rules are never touched. */
#ifndef VXC_IPT_H
#define VXC_IPT_H

#include <netinet/in.h>
#include <libiptc/libiptc.h>

#include "natcommon.h"

#define IPT_DRV "nat/iptables"
#define IPT_NCHAINS 3

struct ipt_chain_def {
	const char *name;    /* ours */
	const char *builtin; /* where our one jump lives */
};
extern const struct ipt_chain_def ipt_chains[IPT_NCHAINS]; /* hidden */

/* One rule as we make it. */
struct ipt_rule {
	struct ipt_entry *e;
	const char *target; /* "DNAT", "SNAT", "RETURN" */
	char desc[NAT_DESC_LEN];
};

struct ipt_rules {
	struct ipt_rule *r;
	size_t n, cap;
};

/* The rules of our chains for the desired state w. */
int ipt_rules_build(const struct nat_want *w, struct ipt_rules out[IPT_NCHAINS]);
void ipt_rules_free(struct ipt_rules out[IPT_NCHAINS]);
/* An unconditional jump to chain (a standard target libiptc resolves). */
struct ipt_entry *ipt_jump_entry(const char *chain);

/* Is e (read through h) the rule r? Counters are ignored. */
int ipt_entry_same(const struct ipt_entry *e, struct xtc_handle *h, const struct ipt_rule *r);
/* Is e an unconditional jump to chain, i.e. our jump rule? */
int ipt_entry_is_jump(const struct ipt_entry *e, struct xtc_handle *h, const char *chain);

/* What a rule of ours does: a floating IP pair (DNAT: fip -> target in
 * vxc-pre/vxc-out, SNAT: target -> fip in vxc-post), or a per-network SNAT
 * text (nat_desc_*), or nothing we recognise. */
enum ipt_kind { IPT_OTHER, IPT_FIP, IPT_NET };
enum ipt_kind ipt_entry_decode(const struct ipt_entry *e, struct xtc_handle *h,
			       struct nat_pair *fip, char *desc, size_t len);

#endif
