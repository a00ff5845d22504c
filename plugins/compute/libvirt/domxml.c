/* The domain XML, built with libxml2's tree API: every value taken from the
 * spec or the settings is an attribute value or a text node, escaped by
 * libxml2, never pasted into markup. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "driver.h"

#define X(s) ((const xmlChar *)(s))

static xmlNodePtr child(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, X(name), text ? X(text) : NULL);
}

static void attr(xmlNodePtr n, const char *name, const char *value)
{
	if (value)
		xmlNewProp(n, X(name), X(value));
}

static void attr_uint(xmlNodePtr n, const char *name, unsigned v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	attr(n, name, buf);
}

/* The ownership element: what vxcloud defined, compared on every apply. */
static void add_metadata(xmlNodePtr dom, const struct lv_want *w)
{
	xmlNodePtr md = child(dom, "metadata", NULL);
	xmlNodePtr e = xmlNewChild(md, NULL, X("instance"), NULL);
	xmlNsPtr ns = xmlNewNs(e, X(LV_META_URI), X(LV_META_PREFIX));

	xmlSetNs(e, ns);
	attr(e, "name", w->name);
	attr(e, "type", w->type);
	attr_uint(e, "cpus", w->cpus);
	attr_uint(e, "memory", w->memory_mb);
	attr(e, "image", w->image ? w->image : "");
	attr(e, "overlay", w->overlay);
	attr(e, "kernel", w->kernel ? w->kernel : "");
	attr(e, "initrd", w->initrd ? w->initrd : "");
	attr(e, "cmdline", w->cmdline ? w->cmdline : "");
	attr(e, "mac", w->mac);
	attr(e, "bridge", w->bridge);
	attr_uint(e, "mtu", w->mtu);
	attr(e, "console", w->console);
}

static void add_os(xmlNodePtr dom, const struct lv_want *w)
{
	xmlNodePtr os = child(dom, "os", NULL);

	attr(child(os, "type", "hvm"), "arch", "x86_64");
	if (w->kernel) {
		child(os, "kernel", w->kernel);
		if (w->initrd)
			child(os, "initrd", w->initrd);
		if (w->cmdline)
			child(os, "cmdline", w->cmdline);
	} else {
		attr(child(os, "boot", NULL), "dev", "hd");
	}
}

static void add_disk(xmlNodePtr devs, const struct lv_want *w)
{
	xmlNodePtr disk, drv, target;

	if (!w->overlay[0])
		return;
	disk = child(devs, "disk", NULL);
	attr(disk, "type", "file");
	attr(disk, "device", "disk");
	drv = child(disk, "driver", NULL);
	attr(drv, "name", "qemu");
	attr(drv, "type", "qcow2");
	attr(child(disk, "source", NULL), "file", w->overlay);
	target = child(disk, "target", NULL);
	attr(target, "dev", "vda");
	attr(target, "bus", "virtio");
}

static void add_nic(xmlNodePtr devs, const struct lv_want *w)
{
	xmlNodePtr nic = child(devs, "interface", NULL);

	attr(nic, "type", "bridge");
	attr(child(nic, "mac", NULL), "address", w->mac);
	attr(child(nic, "source", NULL), "bridge", w->bridge);
	attr(child(nic, "target", NULL), "dev", w->tap);
	attr(child(nic, "model", NULL), "type", "virtio");
	if (w->mtu)
		attr_uint(child(nic, "mtu", NULL), "size", w->mtu);
}

/* The serial console, appended to a file (no virtlogd needed). */
static void add_console(xmlNodePtr devs, const struct lv_want *w)
{
	xmlNodePtr ser = child(devs, "serial", NULL), src;

	attr(ser, "type", "file");
	src = child(ser, "source", NULL);
	attr(src, "path", w->console);
	attr(src, "append", "on");
	attr_uint(child(ser, "target", NULL), "port", 0);
}

char *lv_domain_xml(const struct lv_want *w)
{
	xmlDocPtr doc = xmlNewDoc(X("1.0"));
	xmlNodePtr dom = xmlNewNode(NULL, X("domain")), devs;
	xmlChar *out = NULL;
	char *res = NULL, mem[16], cpus[16];
	int len = 0;

	snprintf(mem, sizeof(mem), "%u", w->memory_mb);
	snprintf(cpus, sizeof(cpus), "%u", w->cpus);
	xmlDocSetRootElement(doc, dom);
	attr(dom, "type", w->type);
	child(dom, "name", w->name);
	if (w->uuid[0]) /* a redefinition keeps the domain's identity */
		child(dom, "uuid", w->uuid);
	attr(child(dom, "memory", mem), "unit", "MiB");
	child(dom, "vcpu", cpus);
	add_metadata(dom, w);
	add_os(dom, w);
	xmlNewChild(child(dom, "features", NULL), NULL, X("acpi"), NULL);
	child(dom, "on_poweroff", "destroy");
	child(dom, "on_reboot", "restart");
	child(dom, "on_crash", "destroy");
	devs = child(dom, "devices", NULL);
	add_disk(devs, w);
	add_nic(devs, w);
	add_console(devs, w);
	attr(child(devs, "memballoon", NULL), "model", "none");
	xmlDocDumpMemory(doc, &out, &len);
	if (out)
		res = strdup((const char *)out);
	xmlFree(out);
	xmlFreeDoc(doc);
	return res;
}

int lv_meta_get(virDomainPtr dom, const char *name, char **val)
{
	char *xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, LV_META_URI,
					 VIR_DOMAIN_AFFECT_CONFIG);
	xmlDocPtr doc;
	xmlChar *v;
	int r = 0;

	*val = NULL;
	if (!xml) {
		virErrorPtr e = virGetLastError();

		return e && e->code == VIR_ERR_NO_DOMAIN_METADATA ? 0 : -EIO;
	}
	doc = xmlReadMemory(xml, (int)strlen(xml), "metadata.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(xml);
	if (!doc)
		return -EIO;
	v = xmlGetProp(xmlDocGetRootElement(doc), X(name));
	if (v) {
		*val = strdup((const char *)v);
		r = *val ? 1 : -ENOMEM;
		xmlFree(v);
	} else {
		*val = strdup("");
		r = *val ? 1 : -ENOMEM;
	}
	xmlFreeDoc(doc);
	return r;
}
