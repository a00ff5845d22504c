/* instance_ensure: the container exists with the spec's configuration,
 * runs, and has its NIC, in that order. A changed configuration makes a
 * new container (the NIC keeps its MAC and address: they come from the
 * spec); a container that came back in a new namespace is plugged again. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

static int check_instance(struct docker_drv *d, const struct vxc_instance *inst)
{
	const struct vxc_port *port = inst ? inst->port : NULL;

	if (!inst || !inst->name || !*inst->name)
		return d->svc->error(d->ctx, -EINVAL, "instance without a name");
	if (inst->kind != VXC_INSTANCE_CONTAINER)
		return d->svc->error(d->ctx, -EOPNOTSUPP, "the docker driver serves kind "
				     "container only");
	if (!inst->image)
		return d->svc->error(d->ctx, -EINVAL, "the docker driver needs an image "
				     "(image = \"busybox\";)");
	if (!port || !port->network || !*port->host_if)
		return d->svc->error(d->ctx, -EINVAL, "no port on a network");
	return 0;
}

/* A container of ours is labelled for this instance on this host. */
static int refuse_foreign(struct docker_drv *d, const struct vxc_instance *inst,
			  const char *name, json_t *c)
{
	const char *owner = container_label(c, LABEL_OWNER);
	const char *who = container_label(c, LABEL_INSTANCE);
	const char *host = container_label(c, LABEL_HOST);
	const char *id = json_string_value(json_object_get(c, "Id"));

	if (owner && !strcmp(owner, "vxcloud") && who && !strcmp(who, inst->name) && host &&
	    !strcmp(host, d->svc->host_name(d->ctx)))
		return 0;
	if (owner && !strcmp(owner, "vxcloud"))
		return d->svc->error(d->ctx, -EEXIST, "container name %s is taken by instance %s "
				     "of host %s on the same engine; refusing to touch it", name,
				     who ? who : "?", host ? host : "?");
	return d->svc->error(d->ctx, -EEXIST, "container name %s is in use by container %.12s, "
			     "which vxcloud does not own; refusing to touch it (rename or remove "
			     "it, or set docker.name_prefix)", name, id ? id : "?");
}

static int state_int(json_t *c, const char *field)
{
	return (int)json_integer_value(json_object_get(json_object_get(c, "State"), field));
}

/* PID of the container's first process, 0 when it does not run. */
static int running_pid(json_t *c)
{
	json_t *st = json_object_get(c, "State");

	return json_is_true(json_object_get(st, "Running")) ? state_int(c, "Pid") : 0;
}

static int start_and_plug(struct docker_drv *d, const struct vxc_instance *inst,
			  const char *id, unsigned flags)
{
	json_t *c;
	int r, pid;

	if ((r = container_start(d, id)) < 0 || (r = container_inspect(d, id, &c)) < 0)
		return r == -ENOENT ? d->svc->error(d->ctx, r, "the container went away "
						    "right after start") : r;
	pid = running_pid(c);
	if (pid <= 0)
		r = d->svc->error(d->ctx, -ECHILD, "the container exited right after start "
				  "(exit code %d)", state_int(c, "ExitCode"));
	json_decref(c);
	return r < 0 ? r : nic_ensure(d, inst, pid, flags);
}

static int create_and_start(struct docker_drv *d, const struct vxc_instance *inst,
			    const char *name, const char *why, unsigned flags)
{
	char *image_id = NULL, *id = NULL;
	int r = image_ensure(d, inst->image, flags, &image_id);

	free(image_id);
	if (r < 0)
		return r;
	d->svc->change(d->ctx, "instance %s: create container %s (%s)", inst->name, name,
		       why);
	if (flags & VXC_F_DRY_RUN)
		return nic_planned(d, inst, flags);
	if ((r = container_create(d, inst, name, &id)) == 0)
		r = start_and_plug(d, inst, id, flags);
	free(id);
	return r;
}

/* "sha256:abc" and "abc" name the same image (podman leaves the prefix out). */
static const char *strip_algo(const char *id)
{
	return strncmp(id, "sha256:", 7) ? id : id + 7;
}

/* What in the spec (or the image behind its reference) changed since the
 * container was made; "" when nothing did. */
static int changed(struct docker_drv *d, const struct vxc_instance *inst, json_t *c,
		   char *buf, size_t len)
{
	const char *have_image = json_string_value(json_object_get(c, "Image"));
	char want[80], *image_id = NULL;
	int r;

	config_hash(d, inst, want, sizeof(want));
	config_diff(container_label(c, LABEL_CONFIG), want, buf, len);
	if (*buf)
		return 0;
	if ((r = image_id_of(d, inst->image, &image_id)) < 0)
		return r;
	if (image_id && have_image && strcmp(strip_algo(image_id), strip_algo(have_image)))
		snprintf(buf, len, "image behind %s", inst->image);
	free(image_id);
	return 0;
}

static int ensure_existing(struct docker_drv *d, const struct vxc_instance *inst,
			   const char *name, json_t *c, unsigned flags)
{
	const char *id = json_string_value(json_object_get(c, "Id"));
	char diff[160], why[200];
	int r, pid;

	if (!id)
		return d->svc->error(d->ctx, -EPROTO, "inspect container %s: no Id in the reply",
				     name);
	if ((r = refuse_foreign(d, inst, name, c)) < 0 || (r = changed(d, inst, c, diff,
								     sizeof(diff))) < 0)
		return r;
	if (*diff) {
		d->svc->change(d->ctx, "instance %s: remove container %s (%s changed)", inst->name,
			       name, diff);
		if (!(flags & VXC_F_DRY_RUN) && (r = container_remove(d, id)) < 0)
			return r;
		snprintf(why, sizeof(why), "%s changed", diff);
		return create_and_start(d, inst, name, why, flags);
	}
	pid = running_pid(c);
	if (pid <= 0) {
		d->svc->change(d->ctx, "instance %s: start container %s (%s, exit code %d)",
			       inst->name, name,
			       json_string_value(json_object_get(json_object_get(c, "State"),
								 "Status")) ?: "not running",
			       state_int(c, "ExitCode"));
		return (flags & VXC_F_DRY_RUN) ? nic_planned(d, inst, flags)
					       : start_and_plug(d, inst, id, flags);
	}
	if ((r = nic_plugged(d, inst, pid)) < 0)
		return r;
	if (!r)
		d->svc->change(d->ctx, "instance %s: container %s running, not plugged (PID %d "
			       "has a new network namespace): plug its NIC again", inst->name, name,
			       pid);
	return nic_ensure(d, inst, pid, flags);
}

int instance_ensure(void *priv, const struct vxc_instance *inst, unsigned flags)
{
	struct docker_drv *d = priv;
	char name[256];
	json_t *c = NULL;
	int r;

	if (flags & ~VXC_F_KNOWN)
		return d->svc->error(d->ctx, -EINVAL, "instance_ensure: unknown flags 0x%x",
				     flags);
	if ((r = check_instance(d, inst)) < 0)
		return r;
	d->inst = inst->name;
	if ((r = container_name(d, inst->name, name, sizeof(name))) < 0)
		goto out;
	r = container_by_name(d, name, &c);
	if (r == -ENOENT)
		r = create_and_start(d, inst, name, "not there yet", flags);
	else if (r == 0)
		r = ensure_existing(d, inst, name, c, flags);
out:
	json_decref(c);
	d->inst = NULL;
	return r;
}
