/* Text for change reports and messages. The plugin does not link the
 * core, so it has its own small formatters. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lbr.h"

const char *lbr_ip_str(struct in_addr a, char buf[LBR_IPSTR])
{
	if (!inet_ntop(AF_INET, &a, buf, LBR_IPSTR))
		snprintf(buf, LBR_IPSTR, "?");
	return buf;
}

const char *lbr_mac_str(const uint8_t m[6], char buf[LBR_MACSTR])
{
	snprintf(buf, LBR_MACSTR, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	return buf;
}

const char *lbr_alias(char buf[LBR_ALIAS_MAX], const char *kind, const char *name)
{
	snprintf(buf, LBR_ALIAS_MAX, VXC_OWNER_MARK "%s:%s", kind, name);
	return buf;
}

int lbr_alias_parse(const char *alias, char *kind, size_t kind_sz, char *name, size_t name_sz)
{
	size_t mark = strlen(VXC_OWNER_MARK), klen;
	const char *colon;

	if (!alias || strncmp(alias, VXC_OWNER_MARK, mark))
		return -EINVAL;
	alias += mark;
	colon = strchr(alias, ':');
	if (!colon || colon == alias || !colon[1])
		return -EINVAL;
	klen = (size_t)(colon - alias);
	if (klen >= kind_sz || strlen(colon + 1) >= name_sz)
		return -EINVAL;
	memcpy(kind, alias, klen);
	kind[klen] = '\0';
	strcpy(name, colon + 1);
	return 0;
}
