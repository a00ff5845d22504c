/* What the driver last committed per router, and the floating IP list it
 * checked, kept in memory and, between processes, in a file of the
 * driver's state directory. Either is trusted only while the kernel says
 * nothing changed since: same boot, same namespace (SO_NETNS_COOKIE never
 * repeats within a boot), same ruleset generation (every nftables commit in
 * the namespace moves it). A stale or damaged file is simply not used. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nft.h"

#define STATE_MAGIC "vxcloud nat/nftables state 1"
#define STATE_MAX_FIPS (1u << 24)

struct nft_cache *nft_cache_get(struct nft_cache **head, const char *router)
{
	struct nft_cache *c;

	for (c = *head; c; c = c->next)
		if (!strcmp(c->router, router))
			return c;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->router = strdup(router))) {
		free(c);
		return NULL;
	}
	c->next = *head;
	*head = c;
	return c;
}

void nft_cache_invalidate(struct nft_cache *c)
{
	if (!c)
		return;
	c->valid = 0;
	nft_cur_free(&c->cur);
}

void nft_cache_drop(struct nft_cache **head, const char *router)
{
	for (struct nft_cache **pp = head; *pp; pp = &(*pp)->next) {
		struct nft_cache *c = *pp;

		if (strcmp(c->router, router))
			continue;
		*pp = c->next;
		nft_cur_free(&c->cur);
		nat_index_free(&c->index);
		free(c->router);
		free(c);
		return;
	}
}

/* ---- the file ------------------------------------------------------- */

static int boot_id(char out[64])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	int ok = f && fgets(out, 64, f);

	if (f)
		fclose(f);
	if (ok)
		out[strcspn(out, "\n")] = 0;
	return ok ? 0 : -ENOENT;
}

static char *path_of(const char *dir, const char *router, const char *suffix)
{
	char *p;

	if (!dir || asprintf(&p, "%s/router-%s.state%s", dir, router, suffix) < 0)
		return NULL;
	return p;
}

void nft_cache_forget(const char *dir, const char *router)
{
	char *p = path_of(dir, router, "");

	if (p)
		unlink(p);
	free(p);
}

/* FNV-1a 64 over the file's body: a flipped byte, a truncation or an
 * edit makes the file unusable rather than trusted. */
static uint64_t body_sum(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static void write_body(FILE *f, const struct nft_cache *c, const char *boot, const char *table)
{
	fprintf(f, "%s\nboot %s\ntable %s\ncookie %" PRIu64 " genid %" PRIu32
		" external %" PRIu32 "\n", STATE_MAGIC, boot, table, c->cookie, c->genid,
		c->index.external);
	for (int i = 0; i < NFT_NCHAINS; i++) {
		fprintf(f, "chain %d %zu\n", i, c->cur.chain[i].n);
		for (size_t j = 0; j < c->cur.chain[i].n; j++)
			fprintf(f, "%s\t%s\n", c->cur.chain[i].rules[j].text,
				c->cur.chain[i].rules[j].comment);
	}
	fprintf(f, "fips %zu\n", c->index.n);
	fwrite(c->index.dnat, sizeof(*c->index.dnat), c->index.n, f);
}

/* A fresh temporary file, never opened through a planted symlink. */
static FILE *create_tmp(const char *tmp)
{
	int fd;
	FILE *f;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	if (!(f = fdopen(fd, "w")))
		close(fd);
	return f;
}

void nft_cache_save(const struct nft_cache *c, const char *dir, const char *table)
{
	char boot[64], *path = path_of(dir, c->router, ""), *tmp = path_of(dir, c->router, ".tmp");
	char *body = NULL;
	size_t len = 0;
	FILE *f = NULL, *m = NULL;
	int ok = 0;

	if (!path || !tmp || !c->valid || boot_id(boot) < 0 || !(m = open_memstream(&body, &len)))
		goto out;
	write_body(m, c, boot, table);
	if (fclose(m) != 0 || !body)
		goto out;
	f = create_tmp(tmp);
	if (!f)
		goto out;
	ok = fwrite(body, 1, len, f) == len;
	/* The body ends in binary data: the sum goes on a line of its own. */
	ok = fprintf(f, "\nsum %016" PRIx64 "\n", body_sum(body, len)) > 0 && ok;
	ok = !fclose(f) && ok;
	ok = ok && rename(tmp, path) == 0;
out:
	if (!ok && tmp)
		unlink(tmp);
	free(body);
	free(path);
	free(tmp);
}

static int read_rules(FILE *f, struct nft_chain_cur *ch, int want_i)
{
	char *line = NULL, *tab;
	size_t cap = 0, n;
	int i, err = -EINVAL;

	if (fscanf(f, "chain %d %zu\n", &i, &n) != 2 || i != want_i || n > 1024)
		return -EINVAL;
	ch->rules = calloc(n + 1, sizeof(*ch->rules));
	if (!ch->rules)
		return -ENOMEM;
	for (size_t j = 0; j < n; j++) {
		ssize_t len = getline(&line, &cap, f);

		if (len <= 0 || line[len - 1] != '\n' || !(tab = strchr(line, '\t')))
			goto out;
		line[len - 1] = 0;
		*tab = 0;
		ch->rules[j].text = strdup(line);
		ch->rules[j].comment = strdup(tab + 1);
		ch->n++;
		if (!ch->rules[j].text || !ch->rules[j].comment) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = 0;
out:
	free(line);
	return err;
}

static int read_fips(FILE *f, struct nft_cache *c)
{
	size_t n;

	if (fscanf(f, "fips %zu", &n) != 1 || fgetc(f) != '\n' || n > STATE_MAX_FIPS)
		return -EINVAL;
	c->index.dnat = malloc((n ? n : 1) * sizeof(*c->index.dnat));
	c->cur.dnat = malloc((n ? n : 1) * sizeof(*c->cur.dnat));
	c->cur.snat = malloc((n ? n : 1) * sizeof(*c->cur.snat));
	if (!c->index.dnat || !c->cur.dnat || !c->cur.snat)
		return -ENOMEM;
	if (fread(c->index.dnat, sizeof(*c->index.dnat), n, f) != n || fgetc(f) != EOF)
		return -EINVAL;
	/* The maps hold this list (dnat) and its inverse (snat). */
	memcpy(c->cur.dnat, c->index.dnat, n * sizeof(*c->cur.dnat));
	for (size_t i = 0; i < n; i++)
		c->cur.snat[i] = (struct nat_pair){ c->index.dnat[i].val, c->index.dnat[i].key };
	c->index.n = c->index.cap = c->cur.n_dnat = c->cur.n_snat = n;
	return 0;
}

/* The whole file, its "sum" line checked and cut off; -EBADMSG when it
 * does not match, -ENOENT when there is no file. */
static int read_checked(const char *path, char **body, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t cap = 0, n = 0;
	char *buf = NULL, *last;
	uint64_t want;
	ssize_t got;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EBADMSG;
	for (;;) {
		if (n == cap) {
			char *nb = cap > (64u << 20) ? NULL : realloc(buf, cap ? 2 * cap : 4096);

			if (!nb)
				break;
			buf = nb;
			cap = cap ? 2 * cap : 4096;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (!buf || n < 22 || buf[n - 1] != '\n')
		goto bad;
	last = buf + n - 22; /* "\nsum " + 16 hex digits + "\n" */
	if (memcmp(last, "\nsum ", 5) || sscanf(last + 5, "%16" SCNx64, &want) != 1 ||
	    body_sum(buf, (size_t)(last - buf)) != want)
		goto bad;
	*body = buf;
	*len = (size_t)(last - buf);
	return 0;
bad:
	free(buf);
	return -EBADMSG;
}

int nft_cache_load(struct nft_cache *c, const char *dir, const char *table)
{
	char *path = path_of(dir, c->router, ""), boot[64], line[512], want[600];
	char *body = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int err = path ? read_checked(path, &body, &len) : -ENOMEM;

	free(path);
	if (err < 0)
		return err;
	f = fmemopen(body, len, "r");
	if (!f) {
		free(body);
		return -ENOMEM;
	}
	nft_cache_invalidate(c);
	nat_index_free(&c->index);
	err = -ESTALE;
	if (boot_id(boot) < 0 || !fgets(line, sizeof(line), f) || strcmp(line, STATE_MAGIC "\n"))
		goto out;
	snprintf(want, sizeof(want), "boot %s\n", boot);
	if (!fgets(line, sizeof(line), f) || strcmp(line, want))
		goto out; /* another boot: cookies and generations start over */
	snprintf(want, sizeof(want), "table %s\n", table);
	if (!fgets(line, sizeof(line), f) || strcmp(line, want))
		goto out;
	err = -EBADMSG;
	if (fscanf(f, "cookie %" SCNu64 " genid %" SCNu32 " external %" SCNu32 "\n", &c->cookie,
		   &c->genid, &c->index.external) != 3)
		goto out;
	err = 0;
	for (int i = 0; !err && i < NFT_NCHAINS; i++)
		err = read_rules(f, &c->cur.chain[i], i);
	if (!err)
		err = read_fips(f, c);
out:
	fclose(f);
	free(body);
	if (err) {
		nft_cache_invalidate(c);
		nat_index_free(&c->index);
		return err == -ENOMEM ? err : (err == -ESTALE ? err : -EBADMSG);
	}
	c->cur.table = c->cur.sane = 1;
	c->cur.external = c->index.external;
	c->valid = 1;
	return 0;
}
