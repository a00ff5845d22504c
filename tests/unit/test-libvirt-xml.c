/* compute/libvirt: the domain XML and the ownership element, without a
 * daemon: libvirt's in-process test driver (test:///default) takes the
 * definitions. Values full of markup characters must come back exactly. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "../../plugins/compute/libvirt/driver.h"
#include "tap.h"

#define NASTY "console=ttyS0 a=\"b c\" <x>&y' ]]>"

static void fill(struct lv_want *w, const char *name)
{
	memset(w, 0, sizeof(*w));
	w->name = name;
	w->type = "qemu";
	w->cpus = 2;
	w->memory_mb = 64;
	w->image = "/img/base & co.qcow2";
	w->image_format = "qcow2";
	snprintf(w->overlay, sizeof(w->overlay), "/state/disks/%s.qcow2", name);
	w->kernel = "/boot/vmlinuz<1>";
	w->initrd = "/boot/initrd\"2\"";
	w->cmdline = NASTY;
	snprintf(w->mac, sizeof(w->mac), "02:00:00:00:00:01");
	w->bridge = "vb-priv";
	w->tap = "vi-vm1";
	w->mtu = 1400;
	snprintf(w->console, sizeof(w->console), "/state/console/%s.log", name);
}

/* The text of the first node matching xpath in doc, or "" (caller frees). */
static char *xpath_text(xmlDocPtr doc, const char *xpath)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = ctx ? xmlXPathEvalExpression((const xmlChar *)xpath, ctx) : NULL;
	char *res = NULL;

	if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
		xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);

		res = strdup(t ? (const char *)t : "");
		xmlFree(t);
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return res ? res : strdup("");
}

static void check_text(xmlDocPtr doc, const char *xpath, const char *want)
{
	char *got = xpath_text(doc, xpath);

	is_str(got, want, "XML %s", xpath);
	free(got);
}

static void test_xml(void)
{
	struct lv_want w;
	char *xml;
	xmlDocPtr doc;

	fill(&w, "vm1");
	xml = lv_domain_xml(&w);
	ok(xml != NULL, "the domain XML is built");
	doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "d.xml", NULL, XML_PARSE_NONET) : NULL;
	ok(doc != NULL, "it is well-formed XML whatever the values hold");
	if (doc) {
		check_text(doc, "/domain/@type", "qemu");
		check_text(doc, "/domain/name", "vm1");
		check_text(doc, "/domain/vcpu", "2");
		check_text(doc, "/domain/memory", "64");
		check_text(doc, "/domain/os/kernel", "/boot/vmlinuz<1>");
		check_text(doc, "/domain/os/initrd", "/boot/initrd\"2\"");
		check_text(doc, "/domain/os/cmdline", NASTY);
		check_text(doc, "/domain/devices/disk/source/@file", "/state/disks/vm1.qcow2");
		check_text(doc, "/domain/devices/interface/@type", "bridge");
		check_text(doc, "/domain/devices/interface/source/@bridge", "vb-priv");
		check_text(doc, "/domain/devices/interface/target/@dev", "vi-vm1");
		check_text(doc, "/domain/devices/interface/mtu/@size", "1400");
		check_text(doc, "/domain/devices/serial/source/@path", "/state/console/vm1.log");
		check_text(doc, "/domain/uuid", "");
		xmlFreeDoc(doc);
	}
	free(xml);
	snprintf(w.uuid, sizeof(w.uuid), "74630fb4-f89a-4036-9998-6a04de421143");
	xml = lv_domain_xml(&w);
	doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "d.xml", NULL, XML_PARSE_NONET) : NULL;
	if (doc) {
		check_text(doc, "/domain/uuid", "74630fb4-f89a-4036-9998-6a04de421143");
		xmlFreeDoc(doc);
	} else {
		ok(0, "a redefinition's XML parses");
	}
	free(xml);
}

static void quiet(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

static void test_metadata(void)
{
	virConnectPtr conn = virConnectOpen("test:///default");
	struct lv_want w;
	virDomainPtr dom, foreign;
	char *xml, *val = NULL;

	ok(conn != NULL, "libvirt's test driver opens");
	if (!conn)
		return;
	fill(&w, "vm1");
	xml = lv_domain_xml(&w);
	dom = xml ? virDomainDefineXML(conn, xml) : NULL;
	ok(dom != NULL, "libvirt takes the definition");
	free(xml);
	if (dom) {
		ok(lv_meta_get(dom, "name", &val) == 1 && !strcmp(val, "vm1"),
		   "the ownership element names the instance");
		free(val);
		ok(lv_meta_get(dom, "cmdline", &val) == 1 && !strcmp(val, NASTY),
		   "a recorded value comes back exactly: %s", val ? val : "(none)");
		free(val);
		ok(lv_meta_get(dom, "cpus", &val) == 1 && !strcmp(val, "2"), "cpus recorded");
		free(val);
		virDomainUndefine(dom);
		virDomainFree(dom);
	}
	foreign = virDomainDefineXML(conn, "<domain type='qemu'><name>other</name>"
				     "<memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm"
				     "</type></os></domain>");
	ok(foreign && lv_meta_get(foreign, "name", &val) == 0 && !val,
	   "a domain without the element is not vxcloud's");
	if (foreign) {
		virDomainUndefine(foreign);
		virDomainFree(foreign);
	}
	virConnectClose(conn);
}

int main(void)
{
	virSetErrorFunc(NULL, quiet);
	test_xml();
	test_metadata();
	return tap_done();
}
