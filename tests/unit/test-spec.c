/* The cloud spec: one table row per validation rule (a small spec and the
 * messages it must produce, with line and field), valid specs, and the
 * model derived from the seed example. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec.h"
#include "spec_int.h"
#include "tap.h"
#include "util.h"

/* Lines 1..4 of most rows: two hosts, a provider, a network, a router. */
#define HOSTS "hosts = ( { name = \"h1\"; tunnel = \"10.0.0.1\"; }, { name = \"h2\"; tunnel = \"10.0.0.2\"; } );\n"
#define PROV "provider = { bridge = \"brp\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\"; range = [ \"203.0.113.10\", \"203.0.113.99\" ]; };\n"
#define NET "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; } );\n"
#define ROUTER "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; networks = [ \"n1\" ]; } );\n"
#define BASE HOSTS PROV NET ROUTER
/* One instance line: name, host, address. */
#define INST(n, h, a) "{ name = \"" n "\"; kind = \"container\"; host = \"" h "\"; network = \"n1\"; address = \"" a "\"; }"
/* A load balancer line with one listener on port 80. */
#define LB(n, vip, extra) "{ name = \"" n "\"; host = \"h1\"; network = \"n1\"; vip = \"" vip "\"; " extra " listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 8080; } ); } ); }"

struct row {
	const char *what;
	const char *text;
	const char *want[4]; /* substrings, each must appear in some message */
};

static const struct row rows[] = {
	/* ---- syntax, structure, types ---- */
	{ "libconfig syntax error with its line",
	  HOSTS "networks = ( { name = \"n1\"; vni = ; } );\n",
	  { "t.conf:2: cannot parse the spec: syntax error" } },
	{ "missing required field",
	  "hosts = ( { name = \"h1\"; } );\n",
	  { "t.conf:1: hosts[0].tunnel: missing: every host needs \"tunnel\"" } },
	{ "missing hosts entirely",
	  NET,
	  { "t.conf: hosts: missing: every spec needs \"hosts\"" } },
	{ "wrong type",
	  HOSTS "networks = ( { name = \"n1\"; vni = \"1\"; cidr = \"10.1.0.0/24\"; } );\n",
	  { "t.conf:2: networks[0].vni: must be an integer, not a string" } },
	{ "wrong type for a list element",
	  "hosts = ( \"h1\" );\n",
	  { "t.conf:1: hosts[0]: must be a group { ... }, not a string" } },
	{ "typo in a host setting",
	  "hosts = ( { name = \"h1\"; tunel = \"10.0.0.1\"; } );\n",
	  { "t.conf:1: hosts[0].tunel: unknown setting \"tunel\" in host; did you mean \"tunnel\"?",
	    "t.conf:1: hosts[0].tunnel: missing" } },
	{ "unknown top-level setting",
	  HOSTS "netwrks = ();\n",
	  { "t.conf:2: netwrks: unknown setting \"netwrks\" in spec; did you mean \"networks\"?" } },
	{ "typo deep inside a listener",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 80; helth = { rise = 2; };\n"
	  "    members = ( { address = \"10.1.0.5\"; port = 8080; wieght = 2; } ); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].helth: unknown setting \"helth\" in listener; did you mean \"health\"?",
	    "t.conf:7: load_balancers[0].listeners[0].members[0].wieght: unknown setting \"wieght\" in member; did you mean \"weight\"?" } },
	{ "typo inside timeouts",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 80; timeouts = { conect = 5; }; members = (); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].timeouts.conect: unknown setting \"conect\" in timeouts; did you mean \"connect\"?" } },

	/* ---- CIDRs, addresses, MACs ---- */
	{ "CIDR with host bits set",
	  HOSTS "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.1/24\"; } );\n",
	  { "t.conf:2: networks[0].cidr: \"10.1.0.1/24\" has host bits set; did you mean 10.1.0.0/24?" } },
	{ "CIDR that is not one",
	  HOSTS "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0/24x\"; } );\n",
	  { "t.conf:2: networks[0].cidr: \"10.1.0/24x\" is not a CIDR" } },
	{ "CIDR too small for a network",
	  HOSTS "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/31\"; } );\n",
	  { "t.conf:2: networks[0].cidr: 10.1.0.0/31 is too small" } },
	{ "bad address text",
	  "hosts = ( { name = \"h1\"; tunnel = \"10.0.0.300\"; } );\n",
	  { "t.conf:1: hosts[0].tunnel: \"10.0.0.300\" is not an IPv4 address" } },
	{ "address that is not unicast",
	  "hosts = ( { name = \"h1\"; tunnel = \"224.0.0.1\"; } );\n",
	  { "t.conf:1: hosts[0].tunnel: 224.0.0.1 is not a unicast address" } },
	{ "bad MAC text",
	  BASE "instances = ( { name = \"i1\"; kind = \"vm\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; mac = \"02:00:00:00:00\"; } );\n",
	  { "t.conf:5: instances[0].mac: \"02:00:00:00:00\" is not a MAC address" } },
	{ "multicast MAC",
	  BASE "instances = ( { name = \"i1\"; kind = \"vm\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; mac = \"01:00:5e:00:00:01\"; } );\n",
	  { "t.conf:5: instances[0].mac: 01:00:5e:00:00:01 is a multicast MAC" } },
	{ "all-zero MAC",
	  BASE "instances = ( { name = \"i1\"; kind = \"vm\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; mac = \"00:00:00:00:00:00\"; } );\n",
	  { "t.conf:5: instances[0].mac: 00:00:00:00:00:00 is the all-zero MAC" } },

	/* ---- addresses against their subnet ---- */
	{ "gateway outside its subnet",
	  HOSTS "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; gateway = \"10.2.0.1\"; } );\n",
	  { "t.conf:2: networks[0].gateway: network \"n1\": gateway 10.2.0.1 is outside 10.1.0.0/24" } },
	{ "gateway on the broadcast address",
	  HOSTS "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.255\"; } );\n",
	  { "t.conf:2: networks[0].gateway: network \"n1\": gateway 10.1.0.255 is the broadcast address of 10.1.0.0/24" } },
	{ "gateway on the network address",
	  HOSTS "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; gateway = \"10.1.0.0\"; } );\n",
	  { "networks[0].gateway: network \"n1\": gateway 10.1.0.0 is the network address" } },
	{ "instance address outside its network",
	  BASE "instances = ( " INST("i1", "h1", "10.9.0.5") " );\n",
	  { "t.conf:5: instances[0].address: instance \"i1\": address 10.9.0.5 is outside network \"n1\" (10.1.0.0/24)" } },
	{ "instance address on the broadcast address",
	  BASE "instances = ( " INST("i1", "h1", "10.1.0.255") " );\n",
	  { "t.conf:5: instances[0].address: instance \"i1\": address 10.1.0.255 is the broadcast address" } },
	{ "instance address equal to the gateway",
	  BASE "instances = ( " INST("i1", "h1", "10.1.0.1") " );\n",
	  { "t.conf:5: instances[0].address: instance \"i1\": address 10.1.0.1 is the gateway of network \"n1\"" } },
	{ "load balancer VIP equal to the gateway",
	  BASE "load_balancers = ( " LB("lb", "10.1.0.1", "") " );\n",
	  { "t.conf:5: load_balancers[0].vip: load balancer \"lb\": VIP address 10.1.0.1 is the gateway" } },

	/* ---- duplicates ---- */
	{ "duplicate host names",
	  "hosts = ( { name = \"h1\"; tunnel = \"10.0.0.1\"; },\n { name = \"h1\"; tunnel = \"10.0.0.2\"; } );\n",
	  { "t.conf:2: hosts[1].name: duplicate host name \"h1\" (first at line 1)" } },
	{ "duplicate network names",
	  HOSTS "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; },\n"
	  "  { name = \"n1\"; vni = 2; cidr = \"10.2.0.0/24\"; } );\n",
	  { "t.conf:3: networks[1].name: duplicate network name \"n1\" (first at line 2)" } },
	{ "duplicate router names",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; },\n"
	  "  { name = \"r1\"; host = \"h2\"; external = \"203.0.113.5\"; } );\n",
	  { "t.conf:5: routers[1].name: duplicate router name \"r1\" (first at line 4)" } },
	{ "duplicate instance names",
	  BASE "instances = ( " INST("i1", "h1", "10.1.0.5") ",\n " INST("i1", "h2", "10.1.0.6") " );\n",
	  { "t.conf:6: instances[1].name: duplicate instance name \"i1\" (first at line 5)" } },
	{ "duplicate load balancer names",
	  BASE "load_balancers = ( " LB("lb", "10.1.0.8", "") ",\n " LB("lb", "10.1.0.9", "") " );\n",
	  { "t.conf:6: load_balancers[1].name: duplicate load balancer name \"lb\" (first at line 5)" } },
	{ "duplicate VNIs",
	  HOSTS "networks = ( { name = \"n1\"; vni = 7; cidr = \"10.1.0.0/24\"; },\n"
	  "  { name = \"n2\"; vni = 7; cidr = \"10.2.0.0/24\"; } );\n",
	  { "t.conf:3: networks[1].vni: network \"n2\": VNI 7 is already used by network \"n1\" (line 2)" } },
	{ "VNI out of range",
	  HOSTS "networks = ( { name = \"n1\"; vni = 16777216; cidr = \"10.1.0.0/24\"; },\n"
	  "  { name = \"n2\"; vni = 0; cidr = \"10.2.0.0/24\"; } );\n",
	  { "t.conf:2: networks[0].vni: 16777216 is out of range; use 1..16777215",
	    "t.conf:3: networks[1].vni: 0 is out of range" } },
	{ "duplicate tunnel addresses",
	  "hosts = ( { name = \"h1\"; tunnel = \"10.0.0.1\"; },\n { name = \"h2\"; tunnel = \"10.0.0.1\"; } );\n",
	  { "t.conf:2: hosts[1].tunnel: tunnel address 10.0.0.1 is already used by host \"h1\" (line 1)" } },
	{ "duplicate MAC inside one network",
	  BASE "instances = ( { name = \"i1\"; kind = \"vm\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; mac = \"02:00:00:00:00:01\"; },\n"
	  "  { name = \"i2\"; kind = \"vm\"; host = \"h2\"; network = \"n1\"; address = \"10.1.0.6\"; mac = \"02:00:00:00:00:01\"; } );\n",
	  { "t.conf:6: instances[1].mac: MAC 02:00:00:00:00:01 of instance \"i2\" is already used by instance \"i1\" (line 5) on network \"n1\"" } },
	{ "duplicate address inside one network (instance and VIP)",
	  BASE "instances = ( " INST("i1", "h1", "10.1.0.8") " );\n"
	  "load_balancers = ( " LB("lb", "10.1.0.8", "") " );\n",
	  { "t.conf:6: load_balancers[0].vip: address 10.1.0.8 of load balancer \"lb\" is already used by instance \"i1\" (line 5) on network \"n1\"" } },
	{ "duplicate listener ports on one load balancer",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\"; listeners = (\n"
	  "  { port = 80; members = (); },\n"
	  "  { port = 80; members = (); } ); } );\n",
	  { "t.conf:7: load_balancers[0].listeners[1].port: load balancer \"lb\": port 80 is already used by listener 0 (line 6)" } },
	{ "duplicate member of a listener",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\"; listeners = ( { port = 80; members = (\n"
	  "  { address = \"10.1.0.5\"; port = 80; },\n"
	  "  { address = \"10.1.0.5\"; port = 80; } ); } ); } );\n",
	  { "t.conf:7: load_balancers[0].listeners[0].members[1]: load balancer \"lb\": member 10.1.0.5:80 is listed twice (first at line 6)" } },

	/* ---- routers and networks ---- */
	{ "networks of one router overlap",
	  HOSTS PROV "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; },\n"
	  "  { name = \"n2\"; vni = 2; cidr = \"10.1.0.0/16\"; } );\n"
	  "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; networks = [ \"n1\",\n \"n2\" ]; } );\n",
	  { "t.conf:6: routers[0].networks[1]: network \"n2\" (10.1.0.0/16) overlaps network \"n1\" (10.1.0.0/24) on router \"r1\"" } },
	{ "network overlaps the provider",
	  HOSTS PROV "networks = ( { name = \"n1\"; vni = 1; cidr = \"203.0.113.0/25\"; } );\n" ROUTER,
	  { "t.conf:4: routers[0].networks[0]: network \"n1\" (203.0.113.0/25) overlaps the provider network 203.0.113.0/24" } },
	{ "network attached to two routers",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; networks = [ \"n1\" ]; },\n"
	  "  { name = \"r2\"; host = \"h2\"; external = \"203.0.113.5\"; networks = [ \"n1\" ]; } );\n",
	  { "t.conf:5: routers[1].networks[0]: network \"n1\" is already attached to router \"r1\" (line 4)" } },
	{ "network listed twice on one router",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; networks = [ \"n1\", \"n1\" ]; } );\n",
	  { "t.conf:4: routers[0].networks[1]: router \"r1\" lists network \"n1\" twice" } },
	{ "router external address outside the provider",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"198.51.100.4\"; } );\n",
	  { "t.conf:4: routers[0].external: router \"r1\": external address 198.51.100.4 is outside the provider network 203.0.113.0/24" } },
	{ "router external address equal to the provider gateway",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.1\"; } );\n",
	  { "t.conf:4: routers[0].external: router \"r1\": external address 203.0.113.1 is the provider gateway" } },
	{ "two routers with one external address",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; },\n"
	  "  { name = \"r2\"; host = \"h1\"; external = \"203.0.113.4\"; } );\n",
	  { "t.conf:5: routers[1].external: router \"r2\": external address 203.0.113.4 is already used by router \"r1\" (line 4)" } },
	{ "routers but no provider",
	  HOSTS NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; networks = [ \"n1\" ]; } );\n",
	  { "t.conf:3: routers[0]: the spec has routers but no provider network" } },

	/* ---- provider ---- */
	{ "provider range outside its CIDR",
	  HOSTS "provider = { bridge = \"brp\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\";\n"
	  "  range = [ \"203.0.113.10\", \"203.0.114.9\" ]; };\n",
	  { "t.conf:3: provider.range: provider range 203.0.113.10..203.0.114.9 is not inside the host addresses of 203.0.113.0/24" } },
	{ "provider range reversed",
	  HOSTS "provider = { bridge = \"brp\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\";\n"
	  "  range = [ \"203.0.113.99\", \"203.0.113.10\" ]; };\n",
	  { "t.conf:3: provider.range: provider range 203.0.113.99..203.0.113.10 is reversed" } },
	{ "provider range with one address",
	  HOSTS "provider = { bridge = \"brp\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\";\n"
	  "  range = [ \"203.0.113.99\" ]; };\n",
	  { "t.conf:3: provider.range: must hold exactly two addresses" } },
	{ "provider gateway outside its CIDR",
	  HOSTS "provider = { bridge = \"brp\"; cidr = \"203.0.113.0/24\";\n gateway = \"198.51.100.1\"; };\n",
	  { "t.conf:3: provider.gateway: provider gateway 198.51.100.1 is outside the provider network 203.0.113.0/24" } },
	{ "provider bridge name too long",
	  HOSTS "provider = { bridge = \"br-provider-0123\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\"; };\n",
	  { "t.conf:2: provider.bridge: \"br-provider-0123\" is not a valid interface name: it needs 1..15 characters" } },
	{ "provider uplink with a slash",
	  HOSTS "provider = { bridge = \"brp\"; uplink = \"eth0/1\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\"; };\n",
	  { "t.conf:2: provider.uplink: \"eth0/1\" is not a valid interface name" } },
	{ "provider bridge with a space",
	  HOSTS "provider = { bridge = \"br p\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\"; };\n",
	  { "t.conf:2: provider.bridge: \"br p\" is not a valid interface name" } },

	/* ---- floating IPs ---- */
	{ "floating IP outside the provider range",
	  BASE "instances = ( " INST("i1", "h2", "10.1.0.5") " );\n"
	  "floating_ips = ( { address = \"203.0.113.200\"; router = \"r1\"; target = \"i1\"; } );\n",
	  { "t.conf:6: floating_ips[0].address: floating IP 203.0.113.200 is outside the provider range 203.0.113.10..203.0.113.99" } },
	{ "floating IP used twice",
	  BASE "instances = ( " INST("i1", "h2", "10.1.0.5") " );\n"
	  "load_balancers = ( " LB("lb", "10.1.0.8", "floating_ip = \"203.0.113.20\";") " );\n"
	  "floating_ips = ( { address = \"203.0.113.20\"; router = \"r1\"; target = \"i1\"; } );\n",
	  { "t.conf:7: floating_ips[0].address: floating IP 203.0.113.20 is already used (line 6)" } },
	{ "floating IP equal to a router's external address",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.40\"; networks = [ \"n1\" ]; } );\n"
	  "instances = ( " INST("i1", "h2", "10.1.0.5") " );\n"
	  "floating_ips = ( { address = \"203.0.113.40\"; target = \"i1\"; } );\n",
	  { "t.conf:6: floating_ips[0].address: floating IP 203.0.113.40 is the external address of router \"r1\" (line 4)" } },
	{ "floating IP target not on a network of its router",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; networks = [ \"n1\" ]; },\n"
	  "  { name = \"r2\"; host = \"h1\"; external = \"203.0.113.5\"; } );\n"
	  "instances = ( " INST("i1", "h2", "10.1.0.5") " );\n"
	  "floating_ips = ( { address = \"203.0.113.20\"; router = \"r2\"; target = \"i1\"; } );\n",
	  { "t.conf:7: floating_ips[0].router: target \"i1\" is on network \"n1\", which is attached to router \"r1\", not \"r2\"" } },
	{ "load balancer floating IP without a router on its network",
	  HOSTS PROV NET "load_balancers = ( " LB("lb", "10.1.0.8", "floating_ip = \"203.0.113.20\";") " );\n",
	  { "t.conf:4: load_balancers[0].floating_ip: load balancer \"lb\" is on network \"n1\", which no router is attached to" } },
	{ "a target with two floating IPs",
	  BASE "instances = ( " INST("i1", "h2", "10.1.0.5") " );\n"
	  "floating_ips = ( { address = \"203.0.113.20\"; target = \"i1\"; },\n"
	  "  { address = \"203.0.113.21\"; target = \"i1\"; } );\n",
	  { "t.conf:7: floating_ips[1].target: instance \"i1\" already has floating IP 203.0.113.20 (line 6)" } },
	{ "a target name that is an instance and a load balancer",
	  BASE "instances = ( " INST("x", "h2", "10.1.0.5") " );\n"
	  "load_balancers = ( " LB("x", "10.1.0.8", "") " );\n"
	  "floating_ips = ( { address = \"203.0.113.20\"; target = \"x\"; } );\n",
	  { "t.conf:7: floating_ips[0].target: target \"x\" is both an instance and a load balancer" } },

	/* ---- references ---- */
	{ "unknown host, with a suggestion",
	  BASE "instances = ( " INST("i1", "h3", "10.1.0.5") " );\n",
	  { "t.conf:5: instances[0].host: unknown host \"h3\"; did you mean \"h1\"?" } },
	{ "unknown host, with the list",
	  BASE "instances = ( " INST("i1", "compute9", "10.1.0.5") " );\n",
	  { "t.conf:5: instances[0].host: unknown host \"compute9\"; the spec's hosts are: h1, h2" } },
	{ "unknown network",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"private\"; vip = \"10.1.0.8\"; listeners = ( { port = 80; members = (); } ); } );\n",
	  { "t.conf:5: load_balancers[0].network: unknown network \"private\"; the spec's networks are: n1" } },
	{ "unknown network on a router",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; networks = [ \"n2\" ]; } );\n",
	  { "t.conf:4: routers[0].networks[0]: unknown network \"n2\"; did you mean \"n1\"?" } },
	{ "unknown router",
	  BASE "instances = ( " INST("i1", "h2", "10.1.0.5") " );\n"
	  "floating_ips = ( { address = \"203.0.113.20\"; router = \"router1\"; target = \"i1\"; } );\n",
	  { "t.conf:6: floating_ips[0].router: unknown router \"router1\"" } },
	{ "unknown target",
	  BASE "floating_ips = ( { address = \"203.0.113.20\"; target = \"web1\"; } );\n",
	  { "t.conf:5: floating_ips[0].target: unknown target \"web1\": no instance or load balancer has that name" } },

	/* ---- names ---- */
	{ "unsafe name",
	  BASE "instances = ( " INST("Web_1", "h1", "10.1.0.5") " );\n",
	  { "t.conf:5: instances[0].name: instance name \"Web_1\" is not allowed: use lowercase letters, digits and '-'" } },
	{ "name ending with a dash",
	  HOSTS "networks = ( { name = \"n1-\"; vni = 1; cidr = \"10.1.0.0/24\"; } );\n",
	  { "t.conf:2: networks[0].name: network name \"n1-\" is not allowed" } },
	{ "network name too long for its bridge",
	  HOSTS "networks = ( { name = \"tenant-blue-1\"; vni = 1; cidr = \"10.1.0.0/24\"; } );\n",
	  { "t.conf:2: networks[0].name: network name \"tenant-blue-1\" is 13 characters: the derived bridge \"vb-tenant-blue-1\" would exceed 15 characters; network names are at most 12 characters" } },
	{ "router name too long for its gateway veth",
	  HOSTS PROV NET "routers = ( { name = \"router-blue-1\"; host = \"h1\"; external = \"203.0.113.4\"; } );\n",
	  { "t.conf:4: routers[0].name: router name \"router-blue-1\" is 13 characters: the derived gateway veth \"rg-router-blue-1\" would exceed 15 characters; router names are at most 12" } },
	{ "instance name too long for its NIC",
	  BASE "instances = ( " INST("webserver-001", "h1", "10.1.0.5") " );\n",
	  { "t.conf:5: instances[0].name: instance name \"webserver-001\" is 13 characters: the derived NIC \"vi-webserver-001\"" } },
	{ "load balancer name too long for its VIP port",
	  BASE "load_balancers = ( " LB("balancer-0001", "10.1.0.8", "") " );\n",
	  { "t.conf:5: load_balancers[0].name: load balancer name \"balancer-0001\" is 13 characters: the derived VIP port \"vl-balancer-0001\"" } },
	{ "bad host name",
	  "hosts = ( { name = \"-h1\"; tunnel = \"10.0.0.1\"; } );\n",
	  { "t.conf:1: hosts[0].name: host name \"-h1\" is not a host name" } },

	/* ---- ports, protocols, kinds, weights ---- */
	{ "listener port out of range",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 70000; members = (); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].port: 70000 is out of range; use 1..65535" } },
	{ "member port out of range",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 0; } ); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].members[0].port: 0 is out of range; use 1..65535" } },
	{ "unknown protocol",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { protocol = \"sctp\"; port = 80; members = (); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].protocol: unknown protocol \"sctp\"; use \"tcp\" or \"http\" or \"udp\"" } },
	{ "unknown algorithm",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { algorithm = \"random\"; port = 80; members = (); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].algorithm: unknown algorithm \"random\"; use \"roundrobin\" or \"leastconn\" or \"source\" or \"rr\" or \"lc\"" } },
	{ "unknown instance kind",
	  BASE "instances = ( { name = \"i1\"; kind = \"docker\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; } );\n",
	  { "t.conf:5: instances[0].kind: unknown kind \"docker\"; use \"container\" or \"vm\"" } },
	{ "member weight out of range",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 80; weight = 257; } ); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].members[0].weight: 257 is out of range; use 0..256" } },
	{ "health check path that is not a path",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 80; health = { http_path = \"/a b\"; }; members = (); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].health.http_path: \"/a b\" is not a usable HTTP path" } },
	{ "health check path with '#' (would start a comment in the balancer's file)",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 80; health = { http_path = \"/a#b\"; }; members = (); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].health.http_path: \"/a#b\" is not a usable HTTP path" } },
	{ "expected HTTP status without a path",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 80; health = { http_status = 200; }; members = (); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].health.http_status: http_status is the answer an HTTP check expects" } },
	{ "expected HTTP status out of range",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 80; health = { http_path = \"/\"; http_status = 99; }; members = (); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].health.http_status: 99 is out of range; use 100..599" } },
	{ "member enabled that is not a boolean",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 80; enabled = \"no\"; } ); } ); } );\n",
	  { "t.conf:6: load_balancers[0].listeners[0].members[0].enabled" } },
	{ "load balancer without listeners",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\"; listeners = (); } );\n",
	  { "t.conf:5: load_balancers[0].listeners: load balancer \"lb\" has no listener" } },
	{ "empty command",
	  BASE "instances = ( { name = \"i1\"; kind = \"container\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; command = []; } );\n",
	  { "t.conf:5: instances[0].command: is empty" } },
	{ "command with a number in it",
	  BASE "instances = ( { name = \"i1\"; kind = \"container\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; command = ( \"sleep\", 5 ); } );\n",
	  { "t.conf:5: instances[0].command[1]: must be a string, not an integer" } },
	{ "empty environment",
	  BASE "instances = ( { name = \"i1\"; kind = \"container\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; environment = []; } );\n",
	  { "t.conf:5: instances[0].environment: is empty" } },
	{ "environment entry without '='",
	  BASE "instances = ( { name = \"i1\"; kind = \"container\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\";\n"
	  "  environment = [ \"A=1\", \"PORT\" ]; } );\n",
	  { "t.conf:6: instances[0].environment[1]: \"PORT\" is not NAME=value" } },
	{ "environment name starting with a digit",
	  BASE "instances = ( { name = \"i1\"; kind = \"container\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; environment = [ \"1A=x\" ]; } );\n",
	  { "instances[0].environment[0]: \"1A=x\" is not NAME=value" } },
	{ "environment name set twice",
	  BASE "instances = ( { name = \"i1\"; kind = \"container\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\";\n"
	  "  environment = [ \"A=1\", \"AB=2\", \"A=3\" ]; } );\n",
	  { "t.conf:6: instances[0].environment[2]: A is set twice (also environment[0])" } },
	{ "environment with a number in it",
	  BASE "instances = ( { name = \"i1\"; kind = \"container\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; environment = ( \"A=1\", 5 ); } );\n",
	  { "t.conf:5: instances[0].environment[1]: must be a string, not an integer" } },

	/* ---- VMs and DHCP (ABI 1.1) ---- */
	{ "VM kernel not an absolute path",
	  BASE "instances = ( { name = \"v1\"; kind = \"vm\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; kernel = \"vmlinuz\"; } );\n",
	  { "t.conf:5: instances[0].kernel: instance \"v1\": \"vmlinuz\" must be an absolute path" } },
	{ "VM initrd without a kernel",
	  BASE "instances = ( { name = \"v1\"; kind = \"vm\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; image = \"/b.qcow2\"; initrd = \"/i.gz\"; } );\n",
	  { "t.conf:5: instances[0].initrd: instance \"v1\": initrd needs kernel" } },
	{ "VM with a command",
	  BASE "instances = ( { name = \"v1\"; kind = \"vm\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; kernel = \"/k\"; command = [ \"x\" ]; } );\n",
	  { "t.conf:5: instances[0].command: instance \"v1\": a VM runs what its image or kernel boots" } },
	{ "container with VM settings",
	  BASE "instances = ( { name = \"c1\"; kind = \"container\"; host = \"h1\"; network = \"n1\"; address = \"10.1.0.5\"; kernel = \"/k\"; allow_restart = true; } );\n",
	  { "t.conf:5: instances[0].kernel: instance \"c1\": kernel is for kind \"vm\" only",
	    "instances[0].allow_restart: instance \"c1\": allow_restart is for kind \"vm\" only" } },
	{ "DHCP on a network without a router",
	  HOSTS "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; dhcp = true; } );\n",
	  { "t.conf:2: networks[0].dhcp: network \"n1\": DHCP is served from the router's namespace, and no router lists this network" } },
	{ "DNS servers without DHCP",
	  HOSTS PROV "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; dns = [ \"10.1.0.53\" ]; } );\n" ROUTER,
	  { "t.conf:3: networks[0].dns: network \"n1\": DNS servers are handed out by DHCP" } },
	{ "DNS server not an address",
	  HOSTS PROV "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; dhcp = true; dns = [ \"ns1\" ]; } );\n" ROUTER,
	  { "t.conf:3: networks[0].dns[0]: \"ns1\" is not an IPv4 address" } },

	/* ---- MTU ---- */
	{ "network MTU too large for a holding host's underlay",
	  HOSTS PROV "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; mtu = 1500; } );\n"
	  ROUTER "instances = ( " INST("i1", "h2", "10.1.0.5") " );\n",
	  { "t.conf:3: networks[0].mtu: network \"n1\": MTU 1500 plus 50 bytes of VXLAN overhead exceeds underlay_mtu 1500 of host \"h1\", which holds it; lower mtu to 1450",
	    "underlay_mtu 1500 of host \"h2\"" } },
	{ "network MTU out of range",
	  HOSTS "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; mtu = 500; } );\n",
	  { "t.conf:2: networks[0].mtu: 500 is out of range; use 576..9000" } },
	{ "underlay MTU out of range",
	  "hosts = ( { name = \"h1\"; tunnel = \"10.0.0.1\"; underlay_mtu = 9216; } );\n",
	  { "t.conf:1: hosts[0].underlay_mtu: 9216 is out of range; use 576..9000" } },
	{ "derived network MTU too small",
	  "hosts = ( { name = \"h1\"; tunnel = \"10.0.0.1\"; underlay_mtu = 600; } );\n"
	  NET "instances = ( " INST("i1", "h1", "10.1.0.5") " );\n",
	  { "t.conf:2: networks[0]: network \"n1\": the derived MTU 550 (underlay_mtu 600 of host \"h1\" minus 50) is below 576" } },

	/* ---- every problem in one run ---- */
	/* ---- high availability: hosts = [...] and ha { } ---- */
	{ "host and hosts both given",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; hosts = [ \"h1\", \"h2\" ]; external = \"203.0.113.4\"; } );\n",
	  { "t.conf:4: routers[0].hosts: router \"r1\": give host (one copy) or hosts" } },
	{ "neither host nor hosts",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; external = \"203.0.113.4\"; } );\n",
	  { "t.conf:4: routers[0]: router \"r1\" needs a host: host = \"net1\"; or" } },
	{ "hosts with one entry",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; hosts = [ \"h1\" ]; external = \"203.0.113.4\"; } );\n",
	  { "t.conf:4: routers[0].hosts: router \"r1\": hosts lists the 2 to 8 hosts" } },
	{ "hosts entry unknown and repeated",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; hosts = [ \"h1\", \"h9\", \"h1\" ]; external = \"203.0.113.4\"; } );\n",
	  { "t.conf:4: routers[0].hosts[1]: unknown host \"h9\"",
	    "t.conf:4: routers[0].hosts[2]: \"r1\": host \"h1\" is listed twice" } },
	{ "ha group on a single-host router",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; ha = { preempt = false; }; } );\n",
	  { "t.conf:4: routers[0].ha: router \"r1\": ha settings need two or more hosts" } },
	{ "ha settings out of range and unknown",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; hosts = [ \"h1\", \"h2\" ]; external = \"203.0.113.4\";\n"
	  "  ha = { advert_ms = 105; vrid = 256; prempt = true; }; } );\n",
	  { "t.conf:5: routers[0].ha.advert_ms: router \"r1\": advert_ms 105 is not a multiple of 10",
	    "t.conf:5: routers[0].ha.vrid: 256 is out of range; use 1..255",
	    "t.conf:5: routers[0].ha.prempt: unknown setting \"prempt\" in ha; did you mean \"preempt\"?" } },
	{ "explicit vrid taken twice",
	  HOSTS PROV "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; }, { name = \"n2\"; vni = 2; cidr = \"10.2.0.0/24\"; } );\n"
	  "routers = ( { name = \"r1\"; hosts = [ \"h1\", \"h2\" ]; external = \"203.0.113.4\"; networks = [ \"n1\" ]; ha = { vrid = 9; }; },\n"
	  "  { name = \"r2\"; hosts = [ \"h2\", \"h1\" ]; external = \"203.0.113.5\"; networks = [ \"n2\" ]; ha = { vrid = 9; }; } );\n",
	  { "t.conf:5: routers[1].ha.vrid: router \"r2\": vrid 9 is already taken by router \"r1\"" } },
	{ "DHCP on a network of an HA router",
	  HOSTS PROV "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; dhcp = true; } );\n"
	  "routers = ( { name = \"r1\"; hosts = [ \"h1\", \"h2\" ]; external = \"203.0.113.4\"; networks = [ \"n1\" ]; } );\n",
	  { "t.conf:3: networks[0].dhcp: network \"n1\": its router \"r1\" has copies on several hosts" } },
	{ "HA load balancer: vrid taken by a router",
	  HOSTS PROV NET "routers = ( { name = \"r1\"; hosts = [ \"h1\", \"h2\" ]; external = \"203.0.113.4\"; networks = [ \"n1\" ]; ha = { vrid = 7; }; } );\n"
	  "load_balancers = ( { name = \"lb\"; hosts = [ \"h1\", \"h2\" ]; network = \"n1\"; vip = \"10.1.0.8\"; ha = { vrid = 7; };\n"
	  "  listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 8080; } ); } ); } );\n",
	  { "t.conf:5: load_balancers[0].ha.vrid: load balancer \"lb\": vrid 7 is already taken by router \"r1\"" } },
	{ "HA load balancer: host and hosts, one host, repeated host",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; hosts = [ \"h1\", \"h2\" ]; network = \"n1\"; vip = \"10.1.0.8\";\n"
	  "  listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 8080; } ); } ); },\n"
	  "  { name = \"lb2\"; hosts = [ \"h2\" ]; network = \"n1\"; vip = \"10.1.0.9\";\n"
	  "  listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 8080; } ); } ); },\n"
	  "  { name = \"lb3\"; hosts = [ \"h2\", \"h2\" ]; network = \"n1\"; vip = \"10.1.0.10\"; ha = { advert_ms = 5; };\n"
	  "  listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 8080; } ); } ); } );\n",
	  { "t.conf:5: load_balancers[0].hosts: load balancer \"lb\": give host (one copy) or hosts",
	    "t.conf:7: load_balancers[1].hosts: load balancer \"lb2\": hosts lists the 2 to 8 hosts",
	    "t.conf:9: load_balancers[2].hosts[1]: \"lb3\": host \"h2\" is listed twice",
	    "t.conf:9: load_balancers[2].ha.advert_ms: 5 is out of range; use 10..40950" } },
	{ "HA load balancer: ha settings on a single-host balancer",
	  BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\"; ha = { preempt = false; };\n"
	  "  listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 8080; } ); } ); } );\n",
	  { "t.conf:5: load_balancers[0].ha: load balancer \"lb\": ha settings need two or more hosts" } },

	{ "several problems, all reported",
	  "hosts = ( { name = \"h1\"; tunnel = \"10.0.0.1\"; },\n"                     /* 1 */
	  "  { name = \"h2\"; tunnel = \"10.0.0.1\"; } );\n"                           /* 2 */
	  "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.1/24\"; },\n"        /* 3 */
	  "  { name = \"n2\"; vni = 1; cidr = \"10.2.0.0/24\"; } );\n"                 /* 4 */
	  "instances = ( { name = \"i1\"; kind = \"vm\"; host = \"h9\"; network = \"n2\"; address = \"10.2.0.5\"; },\n" /* 5 */
	  "  { name = \"i2\"; kind = \"vm\"; host = \"h1\"; network = \"n2\"; address = \"10.3.0.5\"; cpu = 2; } );\n",   /* 6 */
	  { "t.conf:2: hosts[1].tunnel: tunnel address 10.0.0.1 is already used",
	    "t.conf:3: networks[0].cidr: \"10.1.0.1/24\" has host bits set",
	    "t.conf:4: networks[1].vni: network \"n2\": VNI 1 is already used",
	    "t.conf:5: instances[0].host: unknown host \"h9\"" } },
};

/* The same spec's second half of problems. */
static const char *const several_more[] = {
	"t.conf:6: instances[1].address: instance \"i2\": address 10.3.0.5 is outside network \"n2\"",
	"t.conf:6: instances[1].cpu: unknown setting \"cpu\" in instance; did you mean \"cpus\"?",
};

static bool has_msg(const struct vxc_diag *d, const char *want)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->msgs[i], want))
			return true;
	return false;
}

static void show(const struct vxc_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		printf("#   %s\n", d->msgs[i]);
}

static void run_row(const struct row *r)
{
	struct vxc_spec *s = (struct vxc_spec *)1;
	struct vxc_diag d;
	bool all = true;
	int rc;

	vxc_diag_init(&d);
	rc = vxc_spec_load_buffer(r->text, "t.conf", &s, &d);
	for (size_t i = 0; i < VXC_ARRAY_SIZE(r->want) && r->want[i]; i++)
		all = all && has_msg(&d, r->want[i]);
	ok(rc == -EINVAL && !s && all, "rejects: %s", r->what);
	for (size_t i = 0; i < VXC_ARRAY_SIZE(r->want) && r->want[i]; i++)
		if (!has_msg(&d, r->want[i]))
			printf("#   missing: %s\n", r->want[i]);
	/* always shown: the log doubles as a catalogue of the messages */
	show(&d);
	vxc_spec_free(s);
	vxc_diag_free(&d);
}

static void test_several(void)
{
	const struct row *r = &rows[VXC_ARRAY_SIZE(rows) - 1];
	struct vxc_spec *s;
	struct vxc_diag d;
	bool all = true, sorted = true;
	int last = 0;

	vxc_diag_init(&d);
	vxc_spec_load_buffer(r->text, "t.conf", &s, &d);
	for (size_t i = 0; i < VXC_ARRAY_SIZE(several_more); i++)
		all = all && has_msg(&d, several_more[i]);
	ok(all && d.n == 6, "several problems: all six reported in one run (%zu)", d.n);
	if (!all || d.n != 6)
		show(&d);
	for (size_t i = 0; i < d.n; i++) {
		int line = 0;

		sscanf(d.msgs[i], "t.conf:%d:", &line);
		sorted = sorted && line >= last;
		last = line;
	}
	ok(sorted, "messages come in line order");
	vxc_diag_free(&d);
}

static struct vxc_spec *load_ok(const char *text, const char *what)
{
	struct vxc_spec *s;
	struct vxc_diag d;
	int rc;

	vxc_diag_init(&d);
	rc = vxc_spec_load_buffer(text, "ok.conf", &s, &d);
	ok(rc == 0 && s && d.n == 0, "accepts: %s", what);
	show(&d);
	vxc_diag_free(&d);
	return s;
}

/* Two tenants may both use 10.0.0.0/24: each network has its own router. */
static void test_overlap_allowed(void)
{
	struct vxc_spec *s = load_ok(
		HOSTS PROV
		"networks = ( { name = \"blue\"; vni = 10; cidr = \"10.0.0.0/24\"; },\n"
		"  { name = \"red\"; vni = 20; cidr = \"10.0.0.0/24\"; } );\n"
		"routers = ( { name = \"rb\"; host = \"h1\"; external = \"203.0.113.4\"; networks = [ \"blue\" ]; },\n"
		"  { name = \"rr\"; host = \"h2\"; external = \"203.0.113.5\"; networks = [ \"red\" ]; } );\n"
		"instances = ( { name = \"b1\"; kind = \"vm\"; host = \"h1\"; network = \"blue\"; address = \"10.0.0.5\"; },\n"
		"  { name = \"r1\"; kind = \"vm\"; host = \"h1\"; network = \"red\"; address = \"10.0.0.5\"; } );\n",
		"overlapping tenant CIDRs on different networks");

	ok(s && s->n_ports == 4, "four ports");
	vxc_spec_free(s);
}

/* environment reaches the model as given, in order; absent stays NULL. */
static void test_environment(void)
{
	struct vxc_spec *s = load_ok(
		BASE "instances = ( { name = \"i1\"; kind = \"container\"; host = \"h1\"; network = \"n1\";\n"
		"  address = \"10.1.0.5\"; environment = [ \"PORT=9898\", \"GREETING=a=b c\", \"EMPTY=\" ]; },\n"
		"  " INST("i2", "h1", "10.1.0.6") " );\n",
		"an instance with an environment");
	const char *const *e = s ? s->instances[0].environment : NULL;

	ok(e && !strcmp(e[0], "PORT=9898") && !strcmp(e[1], "GREETING=a=b c") &&
	   !strcmp(e[2], "EMPTY=") && !e[3], "environment entries in order");
	ok(s && !s->instances[1].environment, "no environment: NULL");
	vxc_spec_free(s);
}

/* Defaults of the syntax. */
static void test_defaults(void)
{
	struct vxc_spec *s = load_ok(
		"hosts = ( { name = \"h1\"; tunnel = \"10.0.0.1\"; underlay_mtu = 9000; },\n"
		"  { name = \"h2\"; tunnel = \"10.0.0.2\"; underlay_mtu = 1600; },\n"
		"  { name = \"h3\"; tunnel = \"10.0.0.3\"; } );\n"
		PROV
		"networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; },\n"
		"  { name = \"n2\"; vni = 2; cidr = \"10.2.0.0/24\"; } );\n"
		"routers = ( { name = \"r1\"; host = \"h1\"; external = \"203.0.113.4\"; networks = [ \"n1\" ]; } );\n"
		"instances = ( " INST("i1", "h2", "10.1.0.5") ", { name = \"i2\"; kind = \"vm\"; host = \"h3\"; network = \"n2\"; address = \"10.2.0.9\"; } );\n"
		"load_balancers = ( " LB("lb", "10.1.0.8", "") " );\n",
		"a spec relying on defaults");
	const struct vxc_lb_listener *l;

	if (!s)
		return;
	ok(s->hosts[2].underlay_mtu == 1500, "underlay_mtu defaults to 1500");
	ok(s->provider->mtu == 1500, "provider mtu defaults to 1500");
	ok(s->networks[0].mtu == 1550, "network mtu: smallest holder underlay (1600) - 50: %u",
	   s->networks[0].mtu);
	ok(s->networks[1].mtu == 1450, "network mtu on a default host: 1450 (%u)", s->networks[1].mtu);
	ok(s->networks[0].gateway.s_addr == htonl(0x0a010001), "gateway defaults to .1");
	ok(s->routers[0].snat == 1, "snat defaults to true");
	ok(s->networks[1].router == NULL, "a network without router");
	l = &s->lbs[0].listeners[0];
	ok(l->protocol == VXC_LB_TCP && l->algorithm == VXC_LB_ROUNDROBIN, "tcp, roundrobin");
	ok(l->maxconn == 2000 && l->retries == 3, "maxconn 2000, retries 3");
	ok(l->timeout_connect_ms == 5000 && l->timeout_client_ms == 50000 &&
	   l->timeout_server_ms == 50000, "timeouts 5000/50000/50000");
	ok(!l->health.enabled, "health disabled without a health group");
	ok(l->n_members == 1 && l->members[0].weight == 1, "member weight defaults to 1");
	ok(!s->lbs[0].fip, "no floating IP");
	ok(s->instances[0].image == NULL && s->instances[0].command == NULL &&
	   s->instances[0].cpus == 0 && s->instances[0].memory_mb == 0, "no image, command, cpus, memory");
	ok(s->instances[1].kind == VXC_INSTANCE_VM, "kind vm");
	vxc_spec_free(s);

	s = load_ok(HOSTS "provider = { bridge = \"brp\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\"; };\n",
		    "a provider without range");
	ok(s && s->provider->range_first.s_addr == htonl(0xcb007101) &&
	   s->provider->range_last.s_addr == htonl(0xcb0071fe), "range defaults to the whole CIDR");
	ok(s && !s->provider->uplink, "no uplink");
	vxc_spec_free(s);

	s = load_ok(BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
		    "  listeners = ( { port = 80; health = { }; members = (); } ); } );\n",
		    "an empty health group");
	l = s ? &s->lbs[0].listeners[0] : NULL;
	ok(l && l->health.enabled && l->health.interval_ms == 2000 && l->health.timeout_ms == 1000 &&
	   l->health.rise == 2 && l->health.fall == 3 && !l->health.http_path,
	   "health defaults 2000/1000/2/3, TCP check");
	ok(l && l->ext && l->ext->size == sizeof(*l->ext) && l->ext->http_status == 0,
	   "ABI 1.1 listener extension, no expected status by default");
	vxc_spec_free(s);

	s = load_ok(BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
		    "  listeners = ( { port = 80; health = { http_path = \"/up\"; http_status = 204; };\n"
		    "    members = ( { address = \"10.1.0.5\"; port = 80; weight = 0; },\n"
		    "                { address = \"10.1.0.6\"; port = 80; enabled = false; },\n"
		    "                { address = \"10.1.0.7\"; port = 80; } ); } ); } );\n",
		    "members drained, disabled and enabled; an expected status");
	l = s ? &s->lbs[0].listeners[0] : NULL;
	ok(l && l->ext && l->ext->http_status == 204, "health http_status 204");
	ok(l && l->n_members == 3 && l->members[0].weight == 0 && l->ext->member_enabled[0] &&
	   !l->ext->member_enabled[1] && l->ext->member_enabled[2],
	   "weight 0 stays enabled; enabled = false and the default reach member_enabled");
	vxc_spec_free(s);

	s = load_ok(BASE "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.8\";\n"
		    "  listeners = ( { protocol = \"udp\"; port = 53; algorithm = \"rr\"; members = (); },\n"
		    "    { protocol = \"tcp\"; port = 53; algorithm = \"lc\"; members = (); } ); } );\n",
		    "udp and tcp listeners on one port, algorithms rr and lc");
	l = s ? s->lbs[0].listeners : NULL;
	ok(l && l[0].protocol == VXC_LB_UDP && l[0].algorithm == VXC_LB_RR &&
	   l[1].protocol == VXC_LB_TCP && l[1].algorithm == VXC_LB_LC, "udp/rr and tcp/lc");
	ok(s && s->lb_lines[0][0].protocol == 6 && s->lb_lines[0][1].algorithm == 7 &&
	   s->lb_lines[0][0].health == 0, "the lines of driver-dependent items are kept");
	vxc_spec_free(s);
}

/* A given MAC equal to another port's derived one collides like a duplicate. */
static void test_derived_mac_collision(void)
{
	struct vxc_mac m;
	char mac[VXC_MACSTR], *text, want[160];
	struct vxc_spec *s;
	struct vxc_diag d;

	sp_derive_mac("instance", "i1", "n1", &m);
	vxc_mac_str(&m, mac);
	text = vxc_xasprintf(BASE "instances = ( " INST("i1", "h1", "10.1.0.5") ",\n"
			     " { name = \"i2\"; kind = \"vm\"; host = \"h2\"; network = \"n1\"; address = \"10.1.0.6\"; mac = \"%s\"; } );\n",
			     mac);
	snprintf(want, sizeof(want), "t.conf:6: instances[1].mac: MAC %s of instance \"i2\" is already "
		 "used by instance \"i1\" (line 5)", mac);
	vxc_diag_init(&d);
	ok(vxc_spec_load_buffer(text, "t.conf", &s, &d) == -EINVAL && has_msg(&d, want),
	   "rejects: a MAC equal to a derived one");
	if (!has_msg(&d, want))
		show(&d);
	vxc_diag_free(&d);
	free(text);
}

/* From a file, messages carry the file's own name. */
static void test_file_messages(void)
{
	char path[] = "/tmp/vxc-spec-XXXXXX", want[96];
	struct vxc_spec *s;
	struct vxc_diag d;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		ok(0, "temporary file");
		return;
	}
	fputs(HOSTS "networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.1/24\"; } );\n", f);
	fclose(f);
	vxc_diag_init(&d);
	snprintf(want, sizeof(want), "%s:2: networks[0].cidr: ", path);
	ok(vxc_spec_load_file(path, &s, &d) == -EINVAL && has_msg(&d, want),
	   "a file's messages name the file and line");
	show(&d);
	vxc_diag_free(&d);
	unlink(path);
}

static void test_missing_file(void)
{
	struct vxc_spec *s;
	struct vxc_diag d;

	vxc_diag_init(&d);
	ok(vxc_spec_load_file("/nonexistent/vxcloud.conf", &s, &d) == -ENOENT && !s && d.n == 1,
	   "a missing file is -ENOENT with a message");
	vxc_diag_free(&d);
}

static const char *ip(struct in_addr a)
{
	static char buf[4][VXC_IPSTR];
	static int k;

	return vxc_ip_str(a, buf[k++ % 4]);
}

static const char *macs(const struct vxc_mac *m)
{
	static char buf[4][VXC_MACSTR];
	static int k;

	return vxc_mac_str(m, buf[k++ % 4]);
}

/* The ABI 1.1 model: a VM's boot settings, a network's DHCP, DNS servers
 * and its list of ports (every host's). */
static void test_vm_dhcp_model(void)
{
	struct vxc_spec *s = load_ok(
		HOSTS PROV
		"networks = ( { name = \"n1\"; vni = 1; cidr = \"10.1.0.0/24\"; dhcp = true;\n"
		"  dns = [ \"10.1.0.53\", \"192.0.2.53\" ]; } );\n" ROUTER
		"instances = ( { name = \"v1\"; kind = \"vm\"; host = \"h2\"; network = \"n1\"; address = \"10.1.0.5\";\n"
		"  image = \"/b.qcow2\"; kernel = \"/k\"; initrd = \"/i\"; cmdline = \"console=ttyS0 a=\\\"b c\\\"\"; allow_restart = true; },\n"
		"  " INST("c1", "h1", "10.1.0.6") " );\n",
		"a VM with boot settings on a DHCP network");
	const struct vxc_instance *v = s ? &s->instances[0] : NULL;
	const struct vxc_network *n = s ? &s->networks[0] : NULL;

	ok(v && !strcmp(v->kernel, "/k") && !strcmp(v->initrd, "/i") && v->allow_restart &&
	   !strcmp(v->cmdline, "console=ttyS0 a=\"b c\"") && !strcmp(v->image, "/b.qcow2"),
	   "the VM's kernel, initrd, cmdline, image and allow_restart reach the model");
	ok(s && !s->instances[1].kernel && !s->instances[1].allow_restart,
	   "a container has none");
	ok(n && n->dhcp && n->n_dns == 2 && !strcmp(ip(n->dns[1]), "192.0.2.53"),
	   "the network's dhcp and DNS servers reach the model");
	ok(n && n->n_ports == 3, "the network lists its three ports (router, VM, container)");
	vxc_spec_free(s);
}

static void test_seed_model(void)
{
	struct vxc_spec *s;
	struct vxc_diag d;
	const struct vxc_router *r;
	const struct vxc_lb *lb;
	const struct vxc_lb_listener *l;
	struct vxc_mac m;

	vxc_diag_init(&d);
	ok(vxc_spec_load_file(VXC_EXAMPLES "/seed.conf", &s, &d) == 0, "seed.conf loads");
	show(&d);
	vxc_diag_free(&d);
	if (!s)
		return;
	ok(s->n_hosts == 3 && s->n_networks == 1 && s->n_routers == 1 && s->n_instances == 2 &&
	   s->n_lbs == 1 && s->n_fips == 2 && s->n_ports == 4, "seed: object counts");
	is_str(s->provider->bridge, "br-provider", "provider bridge");
	is_str(s->provider->uplink, "uplink", "provider uplink");
	is_str(ip(s->provider->range_first), "200.160.0.4", "range first");
	is_str(ip(s->provider->range_last), "200.160.0.100", "range last");
	is_str(s->networks[0].bridge_if, "vb-private", "network bridge");
	is_str(s->networks[0].vxlan_if, "vx-private", "network vxlan device");
	ok(s->networks[0].mtu == 1450 && s->networks[0].vni == 100, "network mtu and vni");

	r = &s->routers[0];
	ok(s->networks[0].router == r, "network -> router");
	is_str(r->netns, "vxr-router", "router namespace");
	is_str(r->gw_host_if, "rg-router", "router gateway veth");
	is_str(r->gw_if, "gw0", "router gateway inside");
	sp_derive_mac("router-gw", "router", "provider", &m);
	ok(!memcmp(&r->gw_mac, &m, sizeof(m)) && r->gw_mac.b[0] == 0x02, "router gateway MAC %s",
	   macs(&r->gw_mac));
	ok(r->host == vxc_spec_host(s, "net127") && r->provider == s->provider, "router host, provider");
	is_str(ip(r->external), "200.160.0.4", "router external");
	ok(r->n_ports == 1 && r->ports[0]->owner_kind == VXC_PORT_ROUTER, "one router port");
	is_str(r->ports[0]->host_if, "rp-private", "router port host end");
	is_str(ip(r->ports[0]->addr), "192.168.100.1", "router port holds the gateway");
	is_str(r->ports[0]->owner, "router", "router port owner");
	sp_derive_mac("router", "router", "private", &m);
	ok(!memcmp(&r->ports[0]->mac, &m, sizeof(m)), "router port MAC derived %s",
	   macs(&r->ports[0]->mac));
	ok(r->n_fips == 2, "router holds two floating IPs");

	is_str(s->instances[0].port->host_if, "vi-web1", "instance NIC");
	is_str(s->instances[0].netns, "vxi-web1", "instance namespace");
	is_str(s->instances[0].image, "busybox", "instance image");
	ok(s->instances[0].command && !strcmp(s->instances[0].command[0], "httpd") &&
	   !strcmp(s->instances[0].command[5], "/srv/www") && !s->instances[0].command[6],
	   "instance command argv");
	ok(s->instances[0].port->host == vxc_spec_host(s, "compute1") &&
	   s->instances[0].port->network == &s->networks[0], "instance port host and network");
	sp_derive_mac("instance", "web1", "private", &m);
	ok(!memcmp(&s->instances[0].port->mac, &m, sizeof(m)), "instance MAC derived %s",
	   macs(&m));
	ok(memcmp(&s->instances[0].port->mac, &s->instances[1].port->mac, sizeof(m)),
	   "instances get different MACs");

	lb = &s->lbs[0];
	is_str(lb->netns, "vxlb-web", "LB namespace");
	is_str(lb->port->host_if, "vl-web", "LB VIP port");
	is_str(ip(lb->port->addr), "192.168.100.8", "LB VIP");
	ok(lb->fip && lb->fip->target_kind == VXC_TARGET_LB && lb->fip->router == r,
	   "LB floating IP bound to the router");
	is_str(lb->fip ? ip(lb->fip->address) : NULL, "200.160.0.5", "LB floating IP");
	is_str(lb->fip ? ip(lb->fip->target_addr) : NULL, "192.168.100.8", "LB floating IP target");
	l = &lb->listeners[0];
	ok(lb->n_listeners == 1 && l->protocol == VXC_LB_HTTP && l->port == 80 &&
	   l->algorithm == VXC_LB_LEASTCONN && l->maxconn == 100 && l->retries == 3,
	   "listener settings");
	ok(l->timeout_connect_ms == 5000 && l->timeout_client_ms == 50000 &&
	   l->timeout_server_ms == 50000, "listener timeouts");
	ok(l->health.enabled && l->health.interval_ms == 2000 && l->health.timeout_ms == 1000 &&
	   l->health.rise == 2 && l->health.fall == 3, "health check");
	is_str(l->health.http_path, "/", "health check path");
	ok(l->n_members == 2 && l->members[1].port == 9898 && l->members[1].weight == 100,
	   "members");
	is_str(ip(l->members[1].addr), "192.168.100.7", "member address");

	is_str(s->fips[0].target, "web1", "floating IP target");
	ok(s->fips[0].target_kind == VXC_TARGET_INSTANCE && s->fips[0].router == r,
	   "floating IP kind and router");
	is_str(ip(s->fips[0].target_addr), "192.168.100.6", "floating IP target address");
	ok(vxc_spec_host(s, "nohost") == NULL, "unknown host lookup");
	vxc_spec_free(s);
}

static void test_two_tenants(void)
{
	struct vxc_spec *s;
	struct vxc_diag d;

	vxc_diag_init(&d);
	ok(vxc_spec_load_file(VXC_EXAMPLES "/two-tenants.conf", &s, &d) == 0,
	   "two-tenants.conf loads");
	show(&d);
	vxc_diag_free(&d);
	ok(s && s->n_networks == 2 &&
	   s->networks[0].cidr.addr.s_addr == s->networks[1].cidr.addr.s_addr &&
	   s->networks[0].vni != s->networks[1].vni && s->networks[0].router != s->networks[1].router,
	   "two tenants share a CIDR, each with its own VNI and router");
	vxc_spec_free(s);
}

static int item_cmp(const void *pa, const void *pb)
{
	const struct dup_item *a = pa, *b = pb;

	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	if (a->k2 != b->k2)
		return a->k2 < b->k2 ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The radix sort of the duplicate finder gives qsort's order on keys that
 * differ in any byte, repeat, and run to 64 bits. */
static void test_sort_items(void)
{
	enum { N = 5000 };
	struct dup_item *a = vxc_xcalloc(N, sizeof(*a)), *b = vxc_xcalloc(N, sizeof(*b));
	uint64_t x = 88172645463325252ull;
	size_t bad = 0;

	for (size_t i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		a[i] = (struct dup_item){ i % 3 ? x % 97 : x, (x >> 32) % 5, N - i };
	}
	memcpy(b, a, N * sizeof(*a));
	sp_sort_items(a, N);
	qsort(b, N, sizeof(*b), item_cmp);
	for (size_t i = 0; i < N; i++)
		bad += a[i].k1 != b[i].k1 || a[i].k2 != b[i].k2 || a[i].idx != b[i].idx;
	ok(bad == 0, "sp_sort_items orders %d items as qsort does (%zu differ)", N, bad);
	sp_sort_items(a, 1);
	sp_sort_items(a, 0);
	ok(a[0].idx == b[0].idx, "sp_sort_items leaves 0 and 1 items alone");
	free(a);
	free(b);
}

/* Virtual router IDs: given ones kept, the rest the lowest free in spec
 * order; 256 HA routers need one more than VRRP has. */
static void test_vrids(void)
{
	char *text = vxc_xasprintf(HOSTS PROV NET
		"routers = ( { name = \"r1\"; hosts = [ \"h1\", \"h2\" ]; external = \"203.0.113.4\"; },\n"
		"  { name = \"r2\"; hosts = [ \"h2\", \"h1\" ]; external = \"203.0.113.5\"; ha = { vrid = 1; advert_ms = 200; preempt = false; }; },\n"
		"  { name = \"r3\"; host = \"h1\"; external = \"203.0.113.6\"; },\n"
		"  { name = \"r4\"; hosts = [ \"h1\", \"h2\" ]; external = \"203.0.113.7\"; } );\n"
		"load_balancers = ( { name = \"lb\"; hosts = [ \"h2\", \"h1\" ]; network = \"n1\"; vip = \"10.1.0.8\";\n"
		"  listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 8080; } ); } ); },\n"
		"  { name = \"lb1\"; host = \"h1\"; network = \"n1\"; vip = \"10.1.0.9\";\n"
		"  listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; port = 8080; } ); } ); } );\n");
	struct vxc_spec *s = load_ok(text, "vrids");
	size_t len = 0, cap = 1 << 16;
	char *big = malloc(cap);
	struct vxc_diag d;

	free(text);
	if (s) {
		ok(s->routers[0].ha->vrid == 2 && s->routers[1].ha->vrid == 1 &&
		   !s->routers[2].ha && s->routers[3].ha->vrid == 3,
		   "vrids: given 1 kept, others 2 and 3, single-host router none");
		ok(s->routers[0].ha->advert_ms == 100 && s->routers[0].ha->preempt &&
		   s->routers[1].ha->advert_ms == 200 && !s->routers[1].ha->preempt &&
		   s->routers[1].ha->hosts[0] == vxc_spec_host(s, "h2"),
		   "ha defaults 100 ms, preempt on; given ones kept; hosts in list order");
		ok(s->n_lbs == 2 && s->lbs[0].ha && s->lbs[0].ha->vrid == 4 &&
		   s->lbs[0].ha->n_hosts == 2 && s->lbs[0].host == vxc_spec_host(s, "h2") &&
		   !s->lbs[1].ha, "vrids: an HA balancer takes the next free ID (4), shared with "
		   "routers; its first host is its host; a single-host balancer has none");
		vxc_spec_free(s);
	}
	len += (size_t)snprintf(big + len, cap - len, HOSTS "routers = (\n");
	for (int i = 0; i < 256; i++)
		len += (size_t)snprintf(big + len, cap - len, "%s{ name = \"r%d\"; hosts = [ \"h1\", "
					"\"h2\" ]; external = \"203.0.113.%d\"; }\n", i ? ", " : "",
					i, 1 + i % 250);
	snprintf(big + len, cap - len, ");\n");
	vxc_diag_init(&d);
	s = NULL;
	ok(vxc_spec_load_buffer(big, "t.conf", &s, &d) == -EINVAL &&
	   has_msg(&d, "routers[255].hosts: router \"r255\": no virtual router ID left"),
	   "256 HA routers: the last is refused with a message");
	vxc_spec_free(s);
	vxc_diag_free(&d);
	free(big);
}

int main(void)
{
	test_sort_items();
	for (size_t i = 0; i < VXC_ARRAY_SIZE(rows); i++)
		run_row(&rows[i]);
	test_several();
	test_derived_mac_collision();
	test_missing_file();
	test_file_messages();
	test_overlap_allowed();
	test_defaults();
	test_environment();
	test_vm_dhcp_model();
	test_seed_model();
	test_two_tenants();
	test_vrids();
	return tap_done();
}
