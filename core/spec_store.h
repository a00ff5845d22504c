/* The spec in etcd, as the CLI sees it: `vxcloud push` stores a validated
 * spec with a compare-and-swap against the revision this machine last saw,
 * `vxcloud pull` reads it; both remember that revision in
 * <state_dir>/etcd-revision. */
#ifndef VXC_SPEC_STORE_H
#define VXC_SPEC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "etcd.h"
#include "nodeconf.h"

#define VXC_SPEC_KEY "spec"
#define VXC_REVISION_FILE "etcd-revision"

/* -ENOENT when this machine never pulled or pushed. */
int vxc_spec_revision_read(const char *state_dir, int64_t *rev);
int vxc_spec_revision_write(const char *state_dir, int64_t rev);

/* A handle on the node config's etcd; a message on stderr when it fails. */
int vxc_spec_store_open(const struct vxc_nodeconf *nc, struct vxc_etcd **e);

/* Stores text (already validated) as the spec. expect: the revision the
 * store must still hold (0: none yet), or VXC_ETCD_ANY (--force). Prints
 * the new revision on stdout, or on a conflict (-ESTALE) says which
 * revision the store holds. */
int vxc_spec_push(const struct vxc_nodeconf *nc, const char *text, size_t len, int64_t expect);
/* Prints the stored spec on stdout, or into out_path; the revision on
 * stderr. -ENOENT when the store has no spec. */
int vxc_spec_pull(const struct vxc_nodeconf *nc, const char *out_path);
/* The stored spec and its revision, for commands that read the spec from
 * etcd; a message on stderr when it fails. */
int vxc_spec_fetch(const struct vxc_nodeconf *nc, char **text, int64_t *rev);

#endif
