#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void *oom(void)
{
	fputs("vxcloud: out of memory\n", stderr);
	abort();
}

void *vxc_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom();
}

void *vxc_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom();
}

void *vxc_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	return p ? p : oom();
}

char *vxc_xstrdup(const char *s)
{
	char *p = strdup(s);
	return p ? p : oom();
}

char *vxc_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? oom() : s;
}

const char *vxc_ip_str(struct in_addr a, char buf[VXC_IPSTR])
{
	return inet_ntop(AF_INET, &a, buf, VXC_IPSTR);
}

const char *vxc_mac_str(const struct vxc_mac *m, char buf[VXC_MACSTR])
{
	snprintf(buf, VXC_MACSTR, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2],
		 m->b[3], m->b[4], m->b[5]);
	return buf;
}

int vxc_mac_parse(const char *s, struct vxc_mac *out)
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		out->b[i] = (unsigned char)v[i];
	return 0;
}

int vxc_ip_parse(const char *s, struct in_addr *out)
{
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -EINVAL;
}

static uint32_t mask_of(uint8_t len)
{
	return len ? htonl(~0u << (32 - len)) : 0;
}

int vxc_prefix_parse(const char *s, struct vxc_prefix *out)
{
	char buf[32], *slash, *end;
	unsigned long len;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || len > 32)
		return -EINVAL;
	if (vxc_ip_parse(buf, &out->addr) < 0)
		return -EINVAL;
	out->len = (uint8_t)len;
	if (out->addr.s_addr & ~mask_of(out->len))
		return -EINVAL;
	return 0;
}

int vxc_prefix_contains(const struct vxc_prefix *p, struct in_addr a)
{
	return (a.s_addr & mask_of(p->len)) == p->addr.s_addr;
}

int vxc_prefix_overlap(const struct vxc_prefix *a, const struct vxc_prefix *b)
{
	uint8_t len = a->len < b->len ? a->len : b->len;
	return ((a->addr.s_addr ^ b->addr.s_addr) & mask_of(len)) == 0;
}

int vxc_mkdir_p(const char *path, mode_t mode)
{
	char *p = vxc_xstrdup(path);
	int r = 0;

	for (char *s = p + 1; *s && !r; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			r = -errno;
		*s = '/';
	}
	if (!r && mkdir(p, mode) < 0 && errno != EEXIST)
		r = -errno;
	free(p);
	return r;
}

FILE *vxc_fcreate_nofollow(const char *path)
{
	int fd;
	FILE *f;

	if (unlink(path) < 0 && errno != ENOENT)
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
}
