/* One nftables transaction: BEGIN (with the generation the diff was made
 * against), the commands, END, sent in one sendmsg. The kernel applies all
 * of it or nothing. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <errno.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "nft.h"

static struct nlmsghdr *batch_hdr(struct nft_batch *b, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)nft_batch_room(b, 64);
	struct nfgenmsg *nfg;

	if (!nlh)
		return NULL;
	nlh = mnl_nlmsg_put_header(nlh);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	return nlh;
}

int nft_batch_init(struct nft_batch *b, struct nft_sock *s, uint32_t genid)
{
	struct nlmsghdr *nlh;

	memset(b, 0, sizeof(*b));
	b->seq0 = ++s->seq;
	nlh = batch_hdr(b, NFNL_MSG_BATCH_BEGIN, b->seq0);
	if (!nlh)
		return -ENOMEM;
	mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	b->len += nlh->nlmsg_len;
	s->seq += 1u << 20; /* leave room for the commands' numbers */
	return 0;
}

void nft_batch_free(struct nft_batch *b)
{
	free(b->buf);
	free(b->what);
	memset(b, 0, sizeof(*b));
}

char *nft_batch_room(struct nft_batch *b, size_t room)
{
	if (b->oom)
		return NULL;
	if (b->len + room > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *p;

		while (cap < b->len + room)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p) {
			b->oom = 1;
			return NULL;
		}
		b->buf = p;
		b->cap = cap;
	}
	memset(b->buf + b->len, 0, room);
	return b->buf + b->len;
}

uint32_t nft_batch_seq(const struct nft_batch *b)
{
	return b->seq0 + 1 + b->n_cmds;
}

void nft_batch_add(struct nft_batch *b, const char *what)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(b->buf + b->len);

	if (b->n_cmds == b->what_cap) {
		size_t cap = b->what_cap ? b->what_cap * 2 : 32;
		void *p = realloc(b->what, cap * sizeof(*b->what));

		if (!p) {
			b->oom = 1;
			return;
		}
		b->what = p;
		b->what_cap = cap;
	}
	b->what[b->n_cmds++] = what;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* Reads acks until the last command's, or the error that ended the batch.
 * Only the last command asks for an ack: on success that is the one
 * message; a refused command's error comes before it. */
static int wait_verdict(struct nft_batch *b, struct nft_sock *s, uint32_t last,
			const char **what)
{
	int first_err = 0;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s->nl, s->buf, s->buflen);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)s->buf;

		if (n < 0)
			return -errno;
		for (; mnl_nlmsg_ok(nlh, (int)n); nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error && !first_err) {
				first_err = e->error;
				if (nlh->nlmsg_seq == b->seq0)
					*what = "commit";
				else if (nlh->nlmsg_seq > b->seq0 &&
					 nlh->nlmsg_seq - b->seq0 - 1 < b->n_cmds)
					*what = b->what[nlh->nlmsg_seq - b->seq0 - 1];
			}
			/* The batch was refused as a whole (stale generation). */
			if (e->error && nlh->nlmsg_seq == b->seq0)
				return e->error;
			if (nlh->nlmsg_seq == last)
				return first_err;
		}
	}
}

int nft_batch_commit(struct nft_batch *b, struct nft_sock *s, const char **what)
{
	struct nlmsghdr *nlh;
	uint32_t last;
	int sz;

	*what = "send";
	if (!b->n_cmds)
		return 0;
	/* Only the last command asks for an acknowledgement. */
	nlh = (struct nlmsghdr *)b->buf;
	for (size_t off = 0, i = 0; off < b->len; off += NLMSG_ALIGN(nlh->nlmsg_len), i++) {
		nlh = (struct nlmsghdr *)(b->buf + off);
		if (i == b->n_cmds)
			nlh->nlmsg_flags |= NLM_F_ACK;
	}
	last = b->seq0 + b->n_cmds;
	nlh = batch_hdr(b, NFNL_MSG_BATCH_END, last + 1);
	if (!nlh || b->oom)
		return -ENOMEM;
	b->len += nlh->nlmsg_len;
	/* The whole batch must fit one skb: the kernel sees BEGIN..END there. */
	sz = (int)(b->len + 4096);
	setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	if (mnl_socket_sendto(s->nl, b->buf, b->len) < 0)
		return -errno;
	return wait_verdict(b, s, last, what);
}
