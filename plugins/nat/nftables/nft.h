/* nat/nftables internals. One table of vxcloud's own ("ip vxcloud" by
 * default: the name is the ownership mark) per router namespace:
 *
 *   map fip_dnat { ipv4_addr : ipv4_addr }   floating IP -> target
 *   map fip_snat { ipv4_addr : ipv4_addr }   target -> floating IP
 *   chain prerouting  (nat, dstnat):  dnat to ip daddr map @fip_dnat
 *   chain output      (nat, -100):    dnat to ip daddr map @fip_dnat
 *   chain postrouting (nat, srcnat):
 *     oifname != GW ct status & dnat == 0 accept      east-west: no NAT
 *     snat to ip saddr map @fip_snat                   floating IPs
 *     ip saddr NET oifname GW snat to EXT              per network, when snat
 *     ip saddr NET ct status dnat snat to EXT          per network: hairpin
 *
 * Floating IPs live only in the two maps, so binding or unbinding one is an
 * element add/delete: one small batch whatever the number already there. */
#ifndef VXC_NFT_H
#define VXC_NFT_H

#include <libmnl/libmnl.h>
#include <stdint.h>

#include "natcommon.h"

#define NFT_DRV "nat/nftables"
#define NFT_MAP_DNAT "fip_dnat"
#define NFT_MAP_SNAT "fip_snat"
#define NFT_NCHAINS 3
#define NFT_TABLE_USE (NFT_NCHAINS + 2) /* chains and maps the table holds */

struct nftnl_rule;

struct nft_chain_def {
	const char *name;
	uint32_t hook;
	int32_t prio;
};
extern const struct nft_chain_def nft_chains[NFT_NCHAINS]; /* hidden */

/* ---- netlink socket (nftsock.c) ------------------------------------ */
struct nft_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char *buf; /* receive buffer */
	size_t buflen;
};

int nft_sock_open(struct nft_sock *s);
void nft_sock_close(struct nft_sock *s);
/* Sends one request and runs cb on each reply until the dump ends or the
 * request is acknowledged. -errno (e.g. -ENOENT) on error. */
int nft_sock_query(struct nft_sock *s, struct nlmsghdr *req, mnl_cb_t cb, void *data);
int nft_genid(struct nft_sock *s, uint32_t *genid);
/* A number that never repeats for another namespace (SO_NETNS_COOKIE). */
uint64_t nft_netns_cookie(struct nft_sock *s);

/* ---- transaction (nftbatch.c) -------------------------------------- */
struct nft_batch {
	char *buf;
	size_t len, cap;
	uint32_t seq0;   /* first command's sequence number */
	unsigned n_cmds;
	const char **what; /* per command, for error messages */
	size_t what_cap;
	int oom;
};

/* Starts a batch whose commit the kernel refuses (ERESTART) unless the
 * ruleset generation is still genid: the state read is the state changed. */
int nft_batch_init(struct nft_batch *b, struct nft_sock *s, uint32_t genid);
void nft_batch_free(struct nft_batch *b);
/* Room for one message of up to room bytes at the end; NULL on ENOMEM. */
char *nft_batch_room(struct nft_batch *b, size_t room);
/* Accounts the message just built at nft_batch_room() (what: for errors). */
void nft_batch_add(struct nft_batch *b, const char *what);
uint32_t nft_batch_seq(const struct nft_batch *b);
/* Ends the batch, sends it in one sendmsg and waits for the verdict. On
 * error *what names the refused command. */
int nft_batch_commit(struct nft_batch *b, struct nft_sock *s, const char **what);

/* ---- state ----------------------------------------------------------- */
struct nft_rule_cur {
	char *text;    /* expressions as libnftnl prints them */
	char *comment; /* our description, from the rule's user data */
};

struct nft_chain_cur {
	struct nft_rule_cur *rules;
	size_t n;
};

/* What one router's namespace holds (or, cached, what we last committed). */
struct nft_cur {
	int table;  /* the table exists */
	int sane;   /* and holds exactly our chains and maps */
	struct nft_chain_cur chain[NFT_NCHAINS];
	struct nat_pair *dnat; /* fip_dnat elements */
	size_t n_dnat;
	struct nat_pair *snat;
	size_t n_snat;
	uint32_t external; /* from the desired state it was made from; 0 unknown */
};

void nft_cur_free(struct nft_cur *c);
int nft_read(struct nft_sock *s, const char *table, struct nft_cur *c);
int nft_read_table(struct nft_sock *s, const char *table, int *exists);
/* The userdata every table this driver creates carries. */
#define NFT_TABLE_MARK "vxcloud:nat/nftables"
/* Names of the ip tables carrying NFT_TABLE_MARK other than keep (NULL-
 * terminated, to nat_strv_free with *n). Only table headers are read. */
int nft_marked_tables(struct nft_sock *s, const char *keep, char ***names, size_t *n);
int nft_read_map(struct nft_sock *s, const char *table, const char *map, struct nat_pair **out,
		 size_t *n);

/* Per router: what the kernel held after our last commit (valid while the
 * ruleset generation has not moved since, in that very namespace), and the
 * floating IP list last checked. A daemon-held instance then adds one
 * floating IP to thousands without reading them back or hashing them again. */
struct nft_cache {
	char *router;
	int valid;        /* cur is the kernel's state at genid */
	int dirty;        /* changed since loaded: saved at close */
	uint64_t cookie;  /* namespace the state was seen in */
	uint32_t genid;   /* ruleset generation it is valid for */
	struct nft_cur cur;
	struct nat_index index; /* the list cur's maps hold, checked */
	struct nft_cache *next;
};

struct nft_cache *nft_cache_get(struct nft_cache **head, const char *router);
void nft_cache_invalidate(struct nft_cache *c);
void nft_cache_drop(struct nft_cache **head, const char *router);
/* Across processes: a file per router in the driver's state directory,
 * good for one boot, one namespace (its cookie) and one ruleset
 * generation, which load() checks against the kernel like the in-memory
 * cache. dir may be NULL (no state directory): nothing is saved. */
void nft_cache_save(const struct nft_cache *c, const char *dir, const char *table);
/* 0 when loaded; -ENOENT: no file; -ESTALE: another boot or table;
 * -EBADMSG: damaged (checksum or content), never used. */
int nft_cache_load(struct nft_cache *c, const char *dir, const char *table);
void nft_cache_forget(const char *dir, const char *router);

/* ---- desired rules (nftrules.c) ------------------------------------ */
struct nft_rule_want {
	struct nftnl_rule *rule;
	char *text;
	char comment[NAT_DESC_LEN];
	int semantic; /* a per-network SNAT rule, reported when added/removed */
};

struct nft_want_rules {
	struct nft_rule_want *r;
	size_t n;
};

int nft_rules_build(const char *table, const struct nat_want *w,
		    struct nft_want_rules out[NFT_NCHAINS]);
void nft_rules_free(struct nft_want_rules out[NFT_NCHAINS]);
char *nft_rule_text(const struct nftnl_rule *r);
/* Adds the table, maps and chains to b (no rules, no elements). */
int nft_put_skeleton(struct nft_batch *b, const char *table);
int nft_put_rule(struct nft_batch *b, const struct nftnl_rule *r);
int nft_put_flush_chain(struct nft_batch *b, const char *table, const char *chain);
int nft_put_del_table(struct nft_batch *b, const char *table);
/* Element add (NFT_MSG_NEWSETELEM) or delete, chunked. */
int nft_put_elems(struct nft_batch *b, const char *table, const char *map, int add,
		  const struct nat_pair *p, size_t n);

#endif
