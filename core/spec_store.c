/* push, pull and fetch of the spec in etcd, and the record of the
 * revision this machine last saw (what push compares against). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec_store.h"
#include "util.h"

static char *revision_path(const char *state_dir)
{
	return vxc_xasprintf("%s/%s", state_dir, VXC_REVISION_FILE);
}

int vxc_spec_revision_read(const char *state_dir, int64_t *rev)
{
	char *path = revision_path(state_dir);
	FILE *f = fopen(path, "re");
	char line[64], *end;

	free(path);
	if (!f)
		return errno == ENOENT ? -ENOENT : -errno;
	int ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!ok)
		return -EINVAL;
	errno = 0;
	*rev = strtoll(line, &end, 10);
	if (errno || end == line || (*end && *end != '\n') || *rev < 0)
		return -EINVAL;
	return 0;
}

/* Written to a fresh temporary file, then renamed: never half a number. */
int vxc_spec_revision_write(const char *state_dir, int64_t rev)
{
	char *path = revision_path(state_dir);
	char *tmp = vxc_xasprintf("%s.tmp", path);
	int rc = vxc_mkdir_p(state_dir, 0755);
	FILE *f = rc < 0 ? NULL : vxc_fcreate_nofollow(tmp);

	if (rc == 0 && !f)
		rc = -errno;
	if (f) {
		fprintf(f, "%" PRId64 "\n", rev);
		if (fclose(f) != 0 || rename(tmp, path) < 0)
			rc = -errno;
	}
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}

int vxc_spec_store_open(const struct vxc_nodeconf *nc, struct vxc_etcd **e)
{
	int rc;

	if (!nc->etcd) {
		fprintf(stderr, "vxcloud: node config %s has no etcd group: the spec is the file %s\n",
			nc->path, nc->spec);
		return -ENOENT;
	}
	rc = vxc_etcd_open(e, nc->etcd);
	if (rc < 0)
		fprintf(stderr, "vxcloud: etcd: %s\n", strerror(-rc));
	return rc;
}

static void store_failed(const char *what, const struct vxc_etcd *e, int rc)
{
	fprintf(stderr, "vxcloud: %s: %s\n", what, vxc_etcd_error(e)[0] ? vxc_etcd_error(e)
								       : strerror(-rc));
}

static void remember(const struct vxc_nodeconf *nc, int64_t rev)
{
	int rc = vxc_spec_revision_write(nc->state_dir, rev);

	if (rc < 0)
		fprintf(stderr, "vxcloud: warning: cannot record revision %" PRId64 " in %s/%s: %s\n",
			rev, nc->state_dir, VXC_REVISION_FILE, strerror(-rc));
}

/* A put retried after a member failed may have landed the first time: the
 * compare then fails against our own write. The store holding exactly our
 * text, newer than expected, is that success. */
static int already_stored(struct vxc_etcd *e, const char *text, size_t len, int64_t expect,
			  int64_t *rev)
{
	struct vxc_etcd_kv kv;
	int same;

	if (expect == VXC_ETCD_ANY || vxc_etcd_get(e, VXC_SPEC_KEY, &kv, NULL) < 0)
		return 0;
	same = kv.value_len == len && !memcmp(kv.value, text, len) && kv.mod_revision > expect;
	if (same)
		*rev = kv.mod_revision;
	vxc_etcd_kv_clear(&kv);
	return same;
}

int vxc_spec_push(const struct vxc_nodeconf *nc, const char *text, size_t len, int64_t expect)
{
	struct vxc_etcd *e;
	int64_t rev = 0;
	int rc = vxc_spec_store_open(nc, &e);

	if (rc < 0)
		return rc;
	rc = vxc_etcd_put(e, VXC_SPEC_KEY, text, len, expect, 0, &rev);
	if (rc == -ESTALE && already_stored(e, text, len, expect, &rev))
		rc = 0;
	if (rc == -ESTALE) {
		if (rev)
			fprintf(stderr, "vxcloud: push: spec in the store is revision %" PRId64, rev);
		else
			fprintf(stderr, "vxcloud: push: there is no spec in the store");
		if (expect)
			fprintf(stderr, ", you last saw %" PRId64, expect);
		else
			fprintf(stderr, ", you never pulled one");
		fprintf(stderr, ": pull it and merge, or push --force; nothing was changed\n");
	} else if (rc < 0) {
		store_failed("push", e, rc);
	} else {
		printf("%" PRId64 "\n", rev);
		remember(nc, rev);
	}
	vxc_etcd_free(e);
	return rc;
}

int vxc_spec_fetch(const struct vxc_nodeconf *nc, char **text, int64_t *rev)
{
	struct vxc_etcd *e;
	struct vxc_etcd_kv kv;
	int rc = vxc_spec_store_open(nc, &e);

	if (rc < 0)
		return rc;
	rc = vxc_etcd_get(e, VXC_SPEC_KEY, &kv, NULL);
	if (rc == -ENOENT)
		fprintf(stderr, "vxcloud: there is no spec in etcd under %s%s: "
				"`vxcloud push FILE` stores one\n", nc->etcd->prefix, VXC_SPEC_KEY);
	else if (rc < 0)
		store_failed("cannot read the spec from etcd", e, rc);
	if (rc == 0) {
		*text = kv.value;
		*rev = kv.mod_revision;
		kv.value = NULL;
		vxc_etcd_kv_clear(&kv);
	}
	vxc_etcd_free(e);
	return rc;
}

/* out_path replaced whole (a temporary file renamed over it). */
static int write_out(const char *out_path, const char *text)
{
	char *tmp = vxc_xasprintf("%s.vxcloud-tmp", out_path);
	FILE *f = vxc_fcreate_nofollow(tmp);
	int rc = 0;

	if (!f || fputs(text, f) < 0)
		rc = -errno;
	if (f && fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, out_path) < 0)
		rc = -errno;
	if (rc < 0) {
		fprintf(stderr, "vxcloud: pull: cannot write %s: %s\n", out_path, strerror(-rc));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

int vxc_spec_pull(const struct vxc_nodeconf *nc, const char *out_path)
{
	char *text;
	int64_t rev;
	int rc = vxc_spec_fetch(nc, &text, &rev);

	if (rc < 0)
		return rc;
	if (out_path)
		rc = write_out(out_path, text);
	else if (fputs(text, stdout) < 0 || fflush(stdout) != 0)
		rc = -EIO;
	if (rc == 0) {
		fprintf(stderr, "revision %" PRId64 "\n", rev);
		remember(nc, rev);
	}
	free(text);
	return rc;
}
