/* Batched netlink requests.
 *
 * Programming 10,000 fdb entries one request and one ACK at a time costs a
 * round trip each (that is what `bridge -batch` does). Here many requests
 * share one sendmsg(); only the last of each chunk asks for an ACK, so the
 * kernel answers the others only when they fail. rtnetlink handles a
 * datagram synchronously inside sendmsg(), so once the ACK of a chunk's
 * last request is read every error of that chunk has been read too.
 * Chunks stay small enough that their error answers (capped, see
 * NETLINK_CAP_ACK, about 800 bytes of buffer each) fit the default receive
 * buffer (208 KiB) even if all of them fail. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "lbr.h"

#define CHUNK_MSGS 128
#define CHUNK_BYTES (32 * 1024)
#define MSG_MAX 256 /* one request: header and a few attributes */

struct lbr_batch {
	struct nl_sock *sk;
	lbr_batch_fail_fn fail;
	void *arg;
	char buf[CHUNK_BYTES];
	size_t len;        /* bytes queued in buf */
	size_t cur;        /* offset of the request being built */
	unsigned n_chunk;  /* requests queued in buf */
	size_t n;          /* requests started so far */
	uint32_t seq0;     /* sequence number of request 0 */
	int err;           /* first failure */
};

static void sock_tune(struct nl_sock *sk)
{
	int fd = nl_socket_get_fd(sk), one = 1;

	/* Errors without a copy of the request, with the kernel's reason. */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
}

struct lbr_batch *lbr_batch_new(struct nl_sock *sk, lbr_batch_fail_fn fail, void *arg)
{
	struct lbr_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	sock_tune(sk);
	b->sk = sk;
	b->fail = fail;
	b->arg = arg;
	return b;
}

void lbr_batch_discard(struct lbr_batch *b)
{
	free(b);
}

static const char *extack_msg(struct nlmsghdr *h)
{
	struct nlmsgerr *e = nlmsg_data(h);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);
	int len;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	len = (int)nlmsg_datalen(h) - (int)off;
	if (len <= 0 || nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off), len,
				  NULL) < 0)
		return NULL;
	return tb[NLMSGERR_ATTR_MSG] ? nla_get_string(tb[NLMSGERR_ATTR_MSG]) : NULL;
}

/* Reads answers until the one for last_seq. */
static int collect(struct lbr_batch *b, uint32_t last_seq)
{
	for (;;) {
		struct sockaddr_nl nla;
		unsigned char *buf = NULL;
		struct nlmsghdr *h;
		int n, done = 0;

		n = nl_recv(b->sk, &nla, &buf, NULL);
		if (n <= 0) {
			free(buf);
			/* Lost answers (ENOBUFS) mean we cannot tell what failed. */
			return n < 0 ? lbr_nlerr(n) : -EIO;
		}
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n); h = nlmsg_next(h, &n)) {
			struct nlmsgerr *e;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = nlmsg_data(h);
			if (e->error && h->nlmsg_seq - b->seq0 < b->n) {
				if (!b->err)
					b->err = e->error;
				if (b->fail)
					b->fail(b->arg, (size_t)(h->nlmsg_seq - b->seq0), e->error,
						extack_msg(h));
			}
			if (h->nlmsg_seq == last_seq)
				done = 1;
		}
		free(buf);
		if (done)
			return 0;
	}
}

static int flush(struct lbr_batch *b)
{
	struct nlmsghdr *last;
	int err;

	if (!b->n_chunk)
		return 0;
	last = (struct nlmsghdr *)(b->buf + b->cur);
	last->nlmsg_flags |= NLM_F_ACK;
	err = nl_sendto(b->sk, b->buf, b->len);
	b->len = b->cur = 0;
	b->n_chunk = 0;
	if (err < 0)
		return lbr_nlerr(err);
	return collect(b, last->nlmsg_seq);
}

int lbr_batch_msg(struct lbr_batch *b, int type, int flags, const void *hdr, size_t hdrlen)
{
	struct nlmsghdr *h;
	int err;

	if (b->n_chunk >= CHUNK_MSGS || b->len + MSG_MAX > CHUNK_BYTES) {
		err = flush(b);
		if (err < 0)
			return err;
	}
	b->cur = b->len;
	h = (struct nlmsghdr *)(b->buf + b->cur);
	memset(h, 0, NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen));
	h->nlmsg_len = NLMSG_LENGTH(hdrlen);
	h->nlmsg_type = (uint16_t)type;
	h->nlmsg_flags = (uint16_t)(flags | NLM_F_REQUEST);
	h->nlmsg_seq = nl_socket_use_seq(b->sk);
	if (!b->n++)
		b->seq0 = h->nlmsg_seq;
	memcpy(NLMSG_DATA(h), hdr, hdrlen);
	b->len += NLMSG_ALIGN(h->nlmsg_len);
	b->n_chunk++;
	return 0;
}

int lbr_batch_attr(struct lbr_batch *b, int type, const void *data, size_t len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(b->buf + b->cur);
	struct nlattr *a = (struct nlattr *)(b->buf + b->len);

	if (b->len - b->cur + NLA_HDRLEN + NLA_ALIGN(len) > MSG_MAX)
		return -EMSGSIZE;
	memset(a, 0, NLA_HDRLEN + NLA_ALIGN(len));
	a->nla_type = (uint16_t)type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	h->nlmsg_len = (uint32_t)(NLMSG_ALIGN(h->nlmsg_len) + NLA_ALIGN(a->nla_len));
	b->len = b->cur + h->nlmsg_len;
	return 0;
}

int lbr_batch_finish(struct lbr_batch *b)
{
	int err = flush(b);

	if (!err)
		err = b->err;
	free(b);
	return err;
}

/* ---- dumps ---------------------------------------------------------- */

static int dump_request(struct nl_sock *sk, int type, const void *hdr, size_t hdrlen,
			int attr_type, uint32_t attr_u32, uint32_t *seq)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_DUMP);
	int err;

	if (!msg)
		return -ENOMEM;
	err = nlmsg_append(msg, (void *)hdr, hdrlen, NLMSG_ALIGNTO);
	if (!err && attr_type)
		err = nla_put_u32(msg, attr_type, attr_u32);
	if (!err)
		err = nl_send_auto(sk, msg);
	*seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	return err < 0 ? lbr_nlerr(err) : 0;
}

int lbr_dump(struct nl_sock *sk, int type, const void *hdr, size_t hdrlen, int attr_type,
	     uint32_t attr_u32, lbr_dump_fn cb, void *arg)
{
	uint32_t seq;
	int err, intr = 0, cb_err = 0;

	err = dump_request(sk, type, hdr, hdrlen, attr_type, attr_u32, &seq);
	if (err < 0)
		return err;
	for (;;) {
		struct sockaddr_nl nla;
		unsigned char *buf = NULL;
		struct nlmsghdr *h;
		int n = nl_recv(sk, &nla, &buf, NULL);

		if (n <= 0) {
			free(buf);
			return n < 0 ? lbr_nlerr(n) : -EIO;
		}
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n); h = nlmsg_next(h, &n)) {
			if (h->nlmsg_seq != seq)
				continue; /* a stale answer */
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = 1;
			if (h->nlmsg_type == NLMSG_DONE) {
				free(buf);
				return cb_err ? cb_err : intr ? -EAGAIN : 0;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)nlmsg_data(h))->error;
				free(buf);
				return err ? err : -EIO;
			}
			if (!cb_err)
				cb_err = cb(arg, h);
		}
		free(buf);
	}
}
