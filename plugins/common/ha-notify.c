/* vxcloud-ha-notify: what keepalived runs on each VRRP state change of a
 * copy (keepalived's `notify`, appending TYPE NAME STATE PRIORITY). Opens
 * the copy's gate (forwarding, ARP answers) in MASTER, closes it in every
 * other state. A program of fixed argv, run by keepalived without a shell,
 * in the copy's namespace; it trusts nothing but the state word. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "keepalived.h"

int main(int argc, char **argv)
{
	int active, err;

	if (argc < 4) {
		fprintf(stderr, "usage: %s TYPE NAME STATE [PRIORITY] (run by keepalived)\n",
			argc ? argv[0] : "vxcloud-ha-notify");
		return 2;
	}
	active = !strcmp(argv[3], "MASTER");
	err = vxc_ha_gate(active);
	if (err < 0) {
		fprintf(stderr, "vxcloud-ha-notify: %s %s: %s: cannot %s the gate: %s\n", argv[1],
			argv[2], argv[3], active ? "open" : "close", strerror(-err));
		return 1;
	}
	return 0;
}
