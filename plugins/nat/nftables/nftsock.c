/* The netlink socket of one operation, opened inside the router's namespace
 * so every request it carries is about that namespace. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <errno.h>
#include <libnftnl/gen.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nft.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define NFT_RECVBUF (256 * 1024) /* dumps of large maps come in big pieces */

int nft_sock_open(struct nft_sock *s)
{
	int one = 1;

	memset(s, 0, sizeof(*s));
	s->buflen = NFT_RECVBUF;
	s->buf = malloc(s->buflen);
	if (!s->buf)
		return -ENOMEM;
	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->nl)
		goto fail;
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* Acks without a copy of the (possibly large) request, errors with
	 * the kernel's explanation. */
	mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (uint32_t)time(NULL) << 8;
	return 0;
fail:
	one = -errno;
	nft_sock_close(s);
	return one;
}

void nft_sock_close(struct nft_sock *s)
{
	if (s->nl)
		mnl_socket_close(s->nl);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

int nft_sock_query(struct nft_sock *s, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	uint32_t seq = req->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(s->nl, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(s->nl, s->buf, s->buflen);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(s->buf, n, seq, s->portid, cb, data);
		if (ret < 0)
			return errno ? -errno : -EIO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *gen = nftnl_gen_alloc();

	if (!gen)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, gen) == 0)
		*(uint32_t *)data = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	return MNL_CB_OK;
}

int nft_genid(struct nft_sock *s, uint32_t *genid)
{
	char buf[256];
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, ++s->seq);
	return nft_sock_query(s, nlh, gen_cb, genid);
}

uint64_t nft_netns_cookie(struct nft_sock *s)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	if (getsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
		return 0;
	return cookie;
}
