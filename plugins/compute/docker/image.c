/* Images: found by reference on the engine, pulled per the pull policy. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

/* The characters of a Docker image reference; anything else could change
 * the meaning of the URL it is put in. */
static int reference_ok(const char *image)
{
	return *image && strspn(image, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "0123456789._/:@-") == strlen(image);
}

int image_id_of(struct docker_drv *d, const char *image, char **id)
{
	struct api_reply rep;
	char path[1024];
	json_t *j;
	int r;

	*id = NULL;
	if (!reference_ok(image))
		return d->svc->error(d->ctx, -EINVAL, "image \"%s\" is not a Docker image "
				     "reference", image);
	snprintf(path, sizeof(path), "/images/%s/json", image);
	if ((r = api_call(d, "GET", path, NULL, 0, &rep)) < 0)
		return r;
	if (rep.status == 404) {
		api_reply_free(&rep);
		return 0;
	}
	if (rep.status != 200) {
		r = api_fail(d, &rep, "inspect image", -EIO);
	} else if (!(j = api_json(d, &rep, "inspect image"))) {
		r = -EPROTO;
	} else {
		const char *s = json_string_value(json_object_get(j, "Id"));

		if (s && !(*id = strdup(s)))
			r = -ENOMEM;
		json_decref(j);
	}
	api_reply_free(&rep);
	return r;
}

/* "name" pulls every tag of name: say latest, as the docker CLI does. */
static int has_tag(const char *image)
{
	const char *last = strrchr(image, '/');

	return strchr(last ? last : image, ':') || strchr(image, '@');
}

/* The pull's progress stream is one JSON object per line; a failure is a
 * line with "error", under HTTP 200. */
static int pull_stream_error(struct docker_drv *d, const char *image, const char *body)
{
	for (const char *line = body; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		json_t *j = json_loadb(line, len, 0, NULL);
		const char *err = j ? json_string_value(json_object_get(j, "error")) : NULL;
		int r = 0;

		if (err)
			r = d->svc->error(d->ctx, -EIO, "pull %s failed: \"%s\"",
					  image, err);
		json_decref(j);
		if (r < 0)
			return r;
		line = end ? end + 1 : NULL;
	}
	return 0;
}

static int pull(struct docker_drv *d, const char *image)
{
	char *q = api_escape(d, image), path[1100];
	struct api_reply rep;
	int r;

	if (!q)
		return d->svc->error(d->ctx, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "/images/create?fromImage=%s%s", q,
		 has_tag(image) ? "" : "&tag=latest");
	free(q);
	if ((r = api_call(d, "POST", path, NULL, d->pull_timeout_ms, &rep)) < 0)
		return r;
	if (rep.status != 200)
		r = api_fail(d, &rep, "pull", -EIO);
	else
		r = pull_stream_error(d, image, rep.body);
	api_reply_free(&rep);
	return r;
}

int image_ensure(struct docker_drv *d, const char *image, unsigned flags, char **id)
{
	int r = image_id_of(d, image, id);

	if (r < 0)
		return r;
	if (*id && d->pull != PULL_ALWAYS)
		return 0;
	if (!*id && d->pull == PULL_NEVER)
		return d->svc->error(d->ctx, -ENOENT, "image %s is not on the engine and "
				     "pull = \"never\"", image);
	if (!*id)
		d->svc->change(d->ctx, "instance %s: pull image %s", d->inst, image);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	free(*id);
	*id = NULL;
	if ((r = pull(d, image)) < 0)
		return r;
	if ((r = image_id_of(d, image, id)) < 0)
		return r;
	if (!*id)
		return d->svc->error(d->ctx, -ENOENT, "image %s: pulled, yet the engine does "
				     "not have it", image);
	return 0;
}
