/* libFuzzer target: the spec loader and the planner on arbitrary text.
 * Any crash, leak or sanitizer report is a bug; so is a valid spec whose
 * model breaks one of the promises of include/vxcloud/model.h (checked
 * below, abort() on failure). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_name(const char *s)
{
	CHECK(s && s[0] && strlen(s) < VXC_IFNAMSIZ);
}

static void check_model(const struct vxc_spec *s)
{
	for (size_t i = 0; i < s->n_networks; i++) {
		check_name(s->networks[i].bridge_if);
		check_name(s->networks[i].vxlan_if);
		CHECK(s->networks[i].mtu >= 576 && s->networks[i].mtu <= 9000);
	}
	for (size_t i = 0; i < s->n_ports; i++) {
		const struct vxc_port *p = &s->ports[i];

		check_name(p->host_if);
		CHECK(p->host >= s->hosts && p->host < s->hosts + s->n_hosts);
		CHECK(p->network >= s->networks && p->network < s->networks + s->n_networks);
		CHECK(!(p->mac.b[0] & 1));
	}
	for (size_t i = 0; i < s->n_routers; i++) {
		check_name(s->routers[i].gw_host_if);
		CHECK(s->routers[i].provider);
		for (size_t j = 0; j < s->routers[i].n_ports; j++)
			check_name(s->routers[i].ports[j]->host_if);
	}
	for (size_t i = 0; i < s->n_instances; i++)
		CHECK(s->instances[i].port && s->instances[i].port->owner_kind == VXC_PORT_INSTANCE);
	for (size_t i = 0; i < s->n_lbs; i++)
		CHECK(s->lbs[i].port && s->lbs[i].n_listeners > 0);
	for (size_t i = 0; i < s->n_fips; i++)
		CHECK(s->fips[i].router && s->fips[i].target);
}

static void plan_every_host(const struct vxc_spec *s)
{
	struct vxc_diag d;

	vxc_diag_init(&d);
	for (size_t i = 0; i < s->n_hosts; i++) {
		struct vxc_plan *p;

		CHECK(vxc_plan_build(s, s->hosts[i].name, &p, &d) == 0);
		for (size_t n = 0; n < p->n_networks; n++)
			for (size_t k = 1; k < p->networks[n].n_fdb; k++)
				CHECK(memcmp(&p->networks[n].fdb[k - 1], &p->networks[n].fdb[k],
					     sizeof(struct vxc_fdb_entry)));
		vxc_plan_free(p);
	}
	CHECK(d.n == 0);
	vxc_diag_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vxc_spec *s;
	struct vxc_diag d;
	char *text;
	int r;

	if (size > 256 * 1024)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* libconfig would open whatever file an @include names */
	if (strstr(text, "@include")) {
		free(text);
		return 0;
	}
	vxc_diag_init(&d);
	r = vxc_spec_load_buffer(text, "fuzz.conf", &s, &d);
	CHECK(r == 0 ? s && d.n == 0 : !s && d.n > 0);
	if (s) {
		check_model(s);
		plan_every_host(s);
		vxc_spec_free(s);
	}
	vxc_diag_free(&d);
	free(text);
	return 0;
}
