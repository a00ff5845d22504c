/* The connection to libvirtd (opened on first use, so `validate` and
 * `plugins` never need the daemon) and the domain type it will run. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

const char *lv_last_error(void)
{
	const char *m = virGetLastErrorMessage();

	return m && *m ? m : "unknown libvirt error";
}

int lv_connect(struct lv_drv *d, const char *who)
{
	if (d->conn)
		return 0;
	d->conn = virConnectOpen(d->uri);
	if (!d->conn)
		return d->svc->error(d->ctx, -ECONNREFUSED, "%s: libvirtd unreachable at %s: %s",
				     who, d->uri, lv_last_error());
	return 0;
}

/* The CPU offers hardware virtualization to this kernel. A KVM without it
 * (a paravirtual one under another hypervisor) runs only specially built
 * guest kernels: a stock distribution kernel spins forever under it. */
static int cpu_has_hw_virt(void)
{
	char line[8192];
	int found = 0;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5))
			found = strstr(line, " vmx") || strstr(line, " svm") ? 1 : -1;
	fclose(f);
	return found == 1;
}

static int kvm_usable(struct lv_drv *d)
{
	char *caps = virConnectGetDomainCapabilities(d->conn, NULL, NULL, NULL, "kvm", 0);
	int ok = caps != NULL;

	free(caps);
	return ok;
}

int lv_domain_type(struct lv_drv *d, const char *who, const char **type)
{
	if (d->resolved_type) {
		*type = d->resolved_type;
		return 0;
	}
	switch (d->want_type) {
	case LV_TYPE_QEMU:
		d->resolved_type = "qemu";
		break;
	case LV_TYPE_KVM:
		if (!cpu_has_hw_virt())
			return d->svc->error(d->ctx, -EOPNOTSUPP, "%s: domain type kvm: this host "
					     "cannot run it (its CPU offers no vmx or svm, so KVM "
					     "boots no stock guest kernel); set domain_type = "
					     "\"qemu\" or \"auto\"", who);
		if (!kvm_usable(d))
			return d->svc->error(d->ctx, -EOPNOTSUPP, "%s: domain type kvm: this host "
					     "cannot run it (%s); set domain_type = \"qemu\" or "
					     "\"auto\"", who, lv_last_error());
		d->resolved_type = "kvm";
		break;
	default:
		d->resolved_type = cpu_has_hw_virt() && kvm_usable(d) ? "kvm" : "qemu";
		d->svc->log(d->ctx, VXC_LOG_INFO, "compute/libvirt: domain type auto: %s",
			    d->resolved_type);
		break;
	}
	*type = d->resolved_type;
	return 0;
}
