// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of colod's configuration file: every key with good values and
 * defaults, each bad value refused at its line with a reason naming the key,
 * the file's structure (sections, duplicates, continuation lines), required
 * and role-specific keys, loading from a file, and print/parse round trips.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "colod/config.h"

#define FILE_NAME "t.conf"

/* Every key, none at its default; line numbers matter to the tests. */
static const char *const full[] = {
	"# vm0, secondary side",			/* 1 */
	"[vm]",						/* 2 */
	"name = vm0",					/* 3 */
	"role = secondary",				/* 4 */
	"ram = 64M",					/* 5 */
	"",						/* 6 */
	"[peer]",					/* 7 */
	"address = 192.0.2.1",				/* 8 */
	"port = 7200",					/* 9 */
	"local = 192.0.2.2",				/* 10 */
	"[qemu]",					/* 11 */
	"binary = /usr/local/bin/qemu",			/* 12 */
	"args = -M pc -smp 2 -kernel /boot/bzImage",	/* 13 */
	"\t-append \"console=ttyS0 root=/dev/vda\"",	/* 14 */
	"run_dir = /var/run/colod/vm0",			/* 15 */
	"[disk]",					/* 16 */
	"device = /dev/vg/vm0",				/* 17 */
	"buffer = 2G",					/* 18 */
	"nbd_port = 10900",				/* 19 */
	"[net]",					/* 20 */
	"tap = tap-vm0",				/* 21 */
	"mac = 52:54:00:12:34:56",			/* 22 */
	"proxy_port = 7001",				/* 23 */
	"[checkpoint]",					/* 24 */
	"max_interval = 500ms",				/* 25 */
	"dirty_pages = 1000",				/* 26 */
	"disk_buffer_percent = 90",			/* 27 */
	"proxy_timeout = 3s",				/* 28 */
	"[cluster]",					/* 29 */
	"corosync = yes",				/* 30 */
	"link_loss_wait = 4s",				/* 31 */
	"fence = /usr/local/sbin/fence-vm0",		/* 32 */
	"fence_timeout = 20s",				/* 33 */
	"[control]",					/* 34 */
	"socket = /run/vm0.sock",			/* 35 */
};
#define FULL_LINES (sizeof(full) / sizeof(full[0]))

/* Only the required keys. */
static const char minimal[] =
	"[vm]\nname = vm1\nrole = primary\nram = 1G\n"
	"[peer]\naddress = 192.0.2.2\nlocal = 192.0.2.1\n"
	"[disk]\ndevice = /dev/sdb\n"
	"[net]\ntap = tap0\nmac = 52:54:00:00:00:01\n";

static char text[16384];

static bool is_key_line(const char *line, const char *key)
{
	size_t len = key ? strlen(key) : 0;

	return key && !strncmp(line, key, len) && !strncmp(line + len, " =", 2);
}

/*
 * The full file with the lines of key and key2 (either may be NULL) set to
 * "key = value", or removed when the value is NULL; returns key's line.
 */
static int build2(const char *key, const char *value, const char *key2, const char *value2)
{
	const char *k, *v;
	int line = 0;
	size_t i;

	text[0] = '\0';
	for (i = 0; i < FULL_LINES; i++) {
		k = is_key_line(full[i], key) ? key : is_key_line(full[i], key2) ? key2 : NULL;
		if (!k) {
			strcat(text, full[i]);
			strcat(text, "\n");
			continue;
		}
		v = k == key ? value : value2;
		if (k == key)
			line = i + 1;
		if (v) {
			strcat(text, k);
			strcat(text, " = ");
			strcat(text, v);
			strcat(text, "\n");
		}
	}
	return line;
}

static int build(const char *key, const char *value)
{
	return build2(key, value, NULL, NULL);
}

/* A file made of full with one line replaced by (or, past the end, added) line_text. */
static void build_line(unsigned int lineno, const char *line_text)
{
	size_t i;

	text[0] = '\0';
	for (i = 0; i < FULL_LINES || i + 1 == lineno; i++) {
		strcat(text, i + 1 == lineno ? line_text : full[i]);
		strcat(text, "\n");
	}
}

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len--)
		if (*b++)
			return false;
	return true;
}

/* text must be refused with an error starting with prefix and containing want. */
static void refused(const char *what, const char *prefix, const char *want)
{
	struct colod_config c;
	char err[512];
	int ret;

	memset(&c, 0xa5, sizeof(c));
	ret = colod_config_parse_string(text, FILE_NAME, &c, err, sizeof(err));
	tap_check(ret == -1 && !strncmp(err, prefix, strlen(prefix)) && strstr(err, want) &&
		  all_zero(&c, sizeof(c)),
		  "%s: refused with \"%s\"", what, ret ? err : "(accepted)");
	if (!ret)
		colod_config_free(&c);
}

static void accepted(const char *what)
{
	struct colod_config c;
	char err[512];

	tap_check(!colod_config_parse_string(text, FILE_NAME, &c, err, sizeof(err)),
		  "%s: accepted%s%s", what, *err ? ": " : "", err);
	colod_config_free(&c);
}

/* key = value must be refused at the key's line, the reason naming the key. */
static void bad_value(const char *key, const char *value, const char *want)
{
	char prefix[64], what[256];
	int line = build(key, value);

	snprintf(prefix, sizeof(prefix), FILE_NAME ":%d: %s: ", line, key);
	snprintf(what, sizeof(what), "%s = '%s'", key, value);
	refused(what, prefix, want);
}

static void bad_line(unsigned int lineno, const char *line_text, const char *want)
{
	char prefix[64], what[256];

	build_line(lineno, line_text);
	snprintf(prefix, sizeof(prefix), FILE_NAME ":%u: ", lineno);
	snprintf(what, sizeof(what), "line %u '%s'", lineno, line_text);
	refused(what, prefix, want);
}

static int parse(const char *t, struct colod_config *c, char *err, size_t errlen)
{
	return colod_config_parse_string(t, FILE_NAME, c, err, errlen);
}

static bool is_ipv4(const struct sockaddr_storage *ss, const char *want)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	char buf[INET_ADDRSTRLEN];

	return ss->ss_family == AF_INET && !sin->sin_port &&
	       inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)) && !strcmp(buf, want);
}

static void test_full(void)
{
	static const char *const argv[] = {
		"-M", "pc", "-smp", "2", "-kernel", "/boot/bzImage", "-append",
		"console=ttyS0 root=/dev/vda",
	};
	struct colod_config c;
	char err[256];
	bool args_ok = true;
	size_t i;

	build(NULL, NULL);
	if (!tap_check(!parse(text, &c, err, sizeof(err)), "full file accepted: %s", err))
		return;
	tap_check(!strcmp(c.name, "vm0") && c.role == COLOD_ROLE_SECONDARY &&
		  c.ram_size == 64ULL << 20, "[vm] values");
	tap_check(is_ipv4(&c.peer_addr, "192.0.2.1") && is_ipv4(&c.local_addr, "192.0.2.2") &&
		  c.peer_port == 7200, "[peer] values");
	tap_check(c.qemu_argc == sizeof(argv) / sizeof(argv[0]) && !c.qemu_argv[c.qemu_argc],
		  "args: %zu words, NULL-terminated", c.qemu_argc);
	for (i = 0; i < c.qemu_argc && i < sizeof(argv) / sizeof(argv[0]); i++)
		args_ok &= !strcmp(c.qemu_argv[i], argv[i]);
	tap_check(args_ok, "args: continuation line joined, quotes removed");
	tap_check(!strcmp(c.qemu_binary, "/usr/local/bin/qemu") &&
		  !strcmp(c.run_dir, "/var/run/colod/vm0"), "[qemu] binary, run_dir");
	tap_check(!strcmp(c.disk_device, "/dev/vg/vm0") && c.disk_buffer_size == 2ULL << 30 &&
		  c.nbd_port == 10900, "[disk] values");
	tap_check(!strcmp(c.tap, "tap-vm0") &&
		  !memcmp(c.mac, "\x52\x54\x00\x12\x34\x56", 6) && c.proxy_port == 7001,
		  "[net] values");
	tap_check(c.max_interval_ms == 500 && c.dirty_pages == 1000 &&
		  c.disk_buffer_percent == 90 && c.proxy_timeout_ms == 3000, "[checkpoint] values");
	tap_check(!strcmp(c.control_socket, "/run/vm0.sock"), "[control] socket");
	colod_config_free(&c);
	tap_check(all_zero(&c, sizeof(c)), "free zeroes the configuration");
	colod_config_free(&c);
}

static void test_defaults(void)
{
	struct colod_config c;
	char err[256];

	if (!tap_check(!parse(minimal, &c, err, sizeof(err)), "required keys only: %s", err))
		return;
	tap_check(c.peer_port == 7100 && c.nbd_port == 10809 && c.proxy_port == 7000,
		  "default ports 7100, 10809, 7000");
	tap_check(!strcmp(c.qemu_binary, "/usr/bin/qemu-system-x86_64") && c.qemu_argc == 0 &&
		  c.qemu_argv && !c.qemu_argv[0], "default binary, no guest args");
	tap_check(!strcmp(c.run_dir, "/run/colod/vm1") &&
		  !strcmp(c.control_socket, "/run/colod/vm1.sock"),
		  "run_dir and socket default after the name");
	tap_check(c.max_interval_ms == 2000 && c.dirty_pages == 16384 &&
		  c.proxy_timeout_ms == 2000 && c.proxy_timeout_no_replica_ms == 20 &&
		  c.proxy_queue_bytes == 16ULL << 20,
		  "checkpoint defaults 2s, 16384, 2s, 20ms, 16M");
	tap_check(c.nbd_timeout_ms == 30000, "a primary's nbd_timeout defaults to 30s");
	tap_check(c.drain_timeout_ms == 5000, "a primary's drain_timeout defaults to 5s");
	tap_check(!c.disk_buffer_size && !c.disk_buffer_percent,
		  "a primary has no disk buffer settings");
	colod_config_free(&c);

	/* a threshold above the guest's 256 pages never fires: harmless */
	build2("ram", "1M", "dirty_pages", NULL);
	tap_check(!parse(text, &c, err, sizeof(err)) && c.dirty_pages == 16384,
		  "dirty_pages above a small guest's page count: %s", err);
	colod_config_free(&c);

	build2("buffer", NULL, "disk_buffer_percent", NULL);
	tap_check(!parse(text, &c, err, sizeof(err)) && c.disk_buffer_size == 1ULL << 30 &&
		  c.disk_buffer_percent == 75, "secondary defaults: buffer 1G, 75%%: %s", err);
	colod_config_free(&c);
}

static void test_good_values(void)
{
	static const struct {
		const char *key, *value;
	} good[] = {
		{ "name", "a" }, { "name", "A.b_c-0123456789012345678901234" },
		{ "ram", "67108864" }, { "ram", "65536k" }, { "ram", "512G" }, { "ram", "2g" },
		{ "address", "2001:db8::1" }, { "address", "fe80::1%1" },
		{ "port", "1" }, { "port", "65535" }, { "port", "07100" },
		{ "args", "" }, { "args", "-display none 'a b' \"c'd\" e\\ f" },
		{ "buffer", "64K" }, { "buffer", "1024G" }, { "buffer", "65537" },
		{ "tap", "0123456789abcde" }, { "mac", "02:00:00:00:00:01" },
		{ "mac", "52:54:00:AB:CD:EF" },
		{ "max_interval", "10ms" }, { "max_interval", "3600s" },
		{ "max_interval", "3600000ms" }, { "dirty_pages", "0" }, { "dirty_pages", "16384" },
		{ "disk_buffer_percent", "1" }, { "disk_buffer_percent", "100" },
		{ "proxy_timeout", "1ms" }, { "socket", "/s" },
	};
	struct colod_config c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!strcmp(good[i].key, "address"))
			build2("address", good[i].value, "local", "2001:db8::2");
		else
			build(good[i].key, good[i].value);
		tap_check(!parse(text, &c, err, sizeof(err)), "%s = '%s' accepted%s%s",
			  good[i].key, good[i].value, *err ? ": " : "", err);
		colod_config_free(&c);
	}
}

/* value for key is accepted: at the limits of its length */
static void good_length(const char *key, const char *value)
{
	struct colod_config c;
	char err[256];

	build(key, value);
	tap_check(!parse(text, &c, err, sizeof(err)), "%s of %zu characters accepted%s%s", key,
		  strlen(value), *err ? ": " : "", err);
	colod_config_free(&c);
}

static void test_bad_values(void)
{
	struct colod_config c;
	char path[200], err[256];

	bad_value("ram", "64Q", "'64Q' is not a size (use bytes or K/M/G)");
	bad_value("name", "", "not a name");
	bad_value("name", ".vm", "not a name");
	bad_value("name", "-vm", "not a name");
	bad_value("name", "vm/0", "not a name");
	bad_value("name", "vm 0", "not a name");
	bad_value("name", "a1234567890123456789012345678901", "not a name");
	bad_value("role", "Primary", "not a role");
	bad_value("role", "tertiary", "not a role");
	bad_value("corosync", "on", "'on' is neither yes nor no");
	bad_value("fence", "fence-vm0", "not an absolute path");
	bad_value("fence_timeout", "500ms", "outside 1s..3600s");
	bad_value("link_loss_wait", "50ms", "outside 100ms..600s");
	bad_value("ram", "", "not a size");
	bad_value("ram", "M", "not a size");
	bad_value("ram", "-64M", "not a size");
	bad_value("ram", "64 M", "not a size");
	bad_value("ram", "1T", "not a size");
	bad_value("ram", "18446744073709551616", "not a size");
	bad_value("ram", "18014398509481984K", "not a size");
	bad_value("ram", "512K", "outside 1M..512G");
	bad_value("ram", "513G", "outside 1M..512G");
	bad_value("ram", "1048577", "not a multiple of 4096");
	bad_value("address", "192.0.2", "not an IPv4 or IPv6 address");
	bad_value("address", "192.0.2.1.5", "not an IPv4 or IPv6 address");
	bad_value("address", "host.example.org", "not an IPv4 or IPv6 address");
	bad_value("address", "0.0.0.0", "not a unicast address");
	bad_value("address", "224.0.0.1", "not a unicast address");
	bad_value("address", "255.255.255.255", "not a unicast address");
	bad_value("address", "::", "not a unicast address");
	bad_value("address", "ff02::1", "not a unicast address");
	bad_value("address", "::ffff:192.0.2.1", "IPv4-mapped");
	bad_value("address", "fe80::1", "link-local");
	bad_value("address", "fe80::1%no-such-if0", "known %interface");
	bad_value("local", "192.0.2.256", "not an IPv4 or IPv6 address");
	bad_value("port", "0", "not a port (1..65535)");
	bad_value("port", "65536", "not a port");
	bad_value("port", "+7100", "not a port");
	bad_value("port", "0x1c", "not a port");
	bad_value("port", "7100 # agent", "not a port");
	bad_value("port", "", "not a port");
	bad_value("nbd_port", "99999999999999999999", "not a port");
	bad_value("proxy_port", "-1", "not a port");
	bad_value("binary", "qemu-system-x86_64", "not an absolute path");
	bad_value("binary", "/usr/bin/qemu # ours", "contains whitespace");
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[161] = '\0';
	bad_value("binary", path, "longer than 160 characters");
	path[160] = '\0';
	good_length("binary", path);
	bad_value("run_dir", "run/colod", "not an absolute path");
	path[81] = '\0';
	bad_value("run_dir", path, "longer than 80 characters");
	path[80] = '\0';
	good_length("run_dir", path);
	bad_value("device", "", "not an absolute path");
	bad_value("buffer", "32K", "outside 64K..1024G");
	bad_value("buffer", "1025G", "outside 64K..1024G");
	bad_value("tap", "", "not an interface name");
	bad_value("tap", "tap/0", "not an interface name");
	bad_value("tap", "tap:0", "not an interface name");
	bad_value("tap", "..", "not an interface name");
	bad_value("tap", "0123456789abcdef", "not an interface name");
	bad_value("mac", "52:54:00:12:34", "not a MAC address");
	bad_value("mac", "52:54:00:12:34:56:78", "not a MAC address");
	bad_value("mac", "52:54:00:12:34:5g", "not a MAC address");
	bad_value("mac", "52:54:00:12:34:56x", "not a MAC address");
	bad_value("mac", "5:54:00:12:34:567", "not a MAC address");
	bad_value("mac", "52-54-00-12-34-56", "not a MAC address");
	bad_value("mac", "01:00:5e:00:00:01", "not a unicast MAC address");
	bad_value("mac", "ff:ff:ff:ff:ff:ff", "not a unicast MAC address");
	bad_value("mac", "00:00:00:00:00:00", "not a unicast MAC address");
	bad_value("max_interval", "2", "not a duration (use ms or s");
	bad_value("max_interval", "1.5s", "not a duration");
	bad_value("max_interval", "2 s", "not a duration");
	bad_value("max_interval", "2m", "not a duration");
	bad_value("max_interval", "ms", "not a duration");
	bad_value("max_interval", "18446744073709551615s", "not a duration");
	bad_value("max_interval", "9ms", "outside 10ms..3600s");
	bad_value("max_interval", "3601s", "outside 10ms..3600s");
	bad_value("dirty_pages", "-1", "not a number");
	bad_value("dirty_pages", "1k", "not a number");
	bad_value("dirty_pages", "134217729", "outside 0..134217728");
	bad_value("disk_buffer_percent", "0", "outside 1..100");
	bad_value("disk_buffer_percent", "101", "outside 1..100");
	bad_value("proxy_timeout", "0ms", "outside 1ms..3600s");
	bad_value("proxy_timeout", "3600001ms", "outside 1ms..3600s");
	/* on proxy_timeout's line 28, which the full file has but not these keys */
	bad_line(28, "proxy_timeout_no_replica = 0ms",
		 "proxy_timeout_no_replica: '0ms' is outside 1ms..3600s");
	build_line(28, "proxy_timeout_no_replica = 5ms");
	tap_check(!parse(text, &c, err, sizeof(err)) && c.proxy_timeout_no_replica_ms == 5,
		  "proxy_timeout_no_replica = 5ms: %s", err);
	colod_config_free(&c);
	bad_line(28, "proxy_queue_bytes = 4095", "proxy_queue_bytes: '4095' is outside");
	bad_line(28, "proxy_queue_bytes = 4G", "proxy_queue_bytes: '4G' is outside");
	build_line(28, "proxy_queue_bytes = 64K");
	tap_check(!parse(text, &c, err, sizeof(err)) && c.proxy_queue_bytes == 64 * 1024,
		  "proxy_queue_bytes = 64K: %s", err);
	colod_config_free(&c);
	bad_value("socket", "vm0.sock", "not an absolute path");
	memset(path + 1, 'a', 107);
	path[108] = '\0';
	bad_value("socket", path, "longer than 107 characters");
	path[107] = '\0';
	good_length("socket", path);
	build("name", "vm\x01");
	refused("name with a control character", FILE_NAME ":3: name: ", "control character");
}

static void test_args(void)
{
	static const struct {
		const char *args, *want;
	} bad[] = {
		{ "-m 64", "'-m' is not allowed: colod gives the guest its RAM" },
		{ "--m 64", "'--m' is not allowed" },
		{ "-mem-path /dev/hugepages", "'-mem-path' is not allowed" },
		{ "-object memory-backend-ram,id=r,size=64M", "RAM backend" },
		{ "-machine pc,memory-backend=r", "RAM backend" },
		{ "-drive file=/x.img", "'-drive' is not allowed: colod adds the replicated disk" },
		{ "-blockdev driver=file", "'-blockdev' is not allowed" },
		{ "-hda /x.img", "'-hda' is not allowed" },
		{ "-netdev tap,id=n0", "'-netdev' is not allowed: colod adds the guest NIC" },
		{ "-nic none", "'-nic' is not allowed" },
		{ "-net none", "'-net' is not allowed" },
		{ "-qmp unix:/q,server", "'-qmp' is not allowed" },
		{ "-incoming defer", "colod adds -incoming itself" },
		{ "--incoming defer", "colod adds -incoming itself" },
		{ "-daemonize", "'-daemonize' is not allowed" },
		{ "-kernel $HOME/bzImage", "'$' is not allowed" },
		{ "-kernel `id`", "'`' is not allowed" },
		{ "-kernel /boot/vmlinuz-*", "'*' is not allowed" },
		{ "-kernel ~/bzImage", "'~' is not allowed" },
		{ "-display none|x", "an unquoted |" },
		{ "-append 'console=ttyS0", "unbalanced quotes" },
		{ "-append \"a\\\"", "unbalanced quotes" },
	};
	char word[220];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		bad_value("args", bad[i].args, bad[i].want);

	/* an error in a continuation line's words is reported at the args line */
	build_line(14, "\t-m 64");
	refused("args continued with -m", FILE_NAME ":13: args: ", "'-m' is not allowed");
	build_line(14, "\tfoo\x02");
	refused("control character in a continuation line", FILE_NAME ":14: args: ",
		"control character");

	/* 95 '"' then 95 '\'': 190 characters, 287 once quoted back */
	strcpy(word, "\t'");
	memset(word + 2, '"', 95);
	strcpy(word + 97, "'\"");
	memset(word + 99, '\'', 95);
	strcpy(word + 194, "\"");
	build_line(14, word);
	refused("an argument too long to print back", FILE_NAME ":13: args: ",
		"too long to be written back");

	/* 2 + 91 * 181 characters on line 14 + 91: past the 16384 args may have */
	{
		char *big = malloc(sizeof(minimal) + 32 + 100 * 182), *p;
		struct colod_config c;
		char err[256];

		p = big + sprintf(big, "%s[qemu]\nargs = -S", minimal);
		for (i = 0; i < 100; i++) {
			*p++ = '\n';
			*p++ = '\t';
			memset(p, 'a', 180);
			p += 180;
		}
		strcpy(p, "\n");
		tap_check(parse(big, &c, err, sizeof(err)) == -1 &&
			  !strcmp(err, FILE_NAME ":105: args: longer than 16384 characters"),
			  "args over 16384 characters refused: %s", err);
		free(big);
	}

	/* the longest line holds a tab and a 195-character argument */
	memset(word, 'a', sizeof(word));
	word[0] = '\t';
	word[196] = '\0';
	build_line(14, word);
	{
		struct colod_config c;
		char err[256];

		tap_check(!parse(text, &c, err, sizeof(err)) && c.qemu_argc == 7 &&
			  strlen(c.qemu_argv[6]) == 195, "a 195-character argument: %s", err);
		colod_config_free(&c);
	}
}

static void test_structure(void)
{
	char line[200];

	bad_line(9, "prot = 7200", "unknown key 'prot' in [peer]");
	bad_line(9, "port", "expected [section], key = value or a comment");
	bad_line(9, "[peers]", "unknown section [peers]");
	bad_line(9, "[Peer]", "unknown section [Peer]");
	bad_line(9, "[peer] port = 1", "text after [peer]");
	bad_line(9, "[peer", "expected [section]");
	bad_line(9, "ram = 64M", "ram: belongs in [vm], not [peer]");
	bad_line(9, "address = 192.0.2.3", "address: given twice (first on line 8)");
	bad_line(9, "  port = 7200", "address: this indented line continues its value; only "
		 "[qemu] args may span lines");
	bad_line(1, "name = vm0", "name: before any section (it belongs in [vm])");
	bad_line(1, "colour = blue", "unknown key 'colour' before any section");
	bad_line(1, "[empty]", "unknown section [empty]");
	build_line(9, "port = 72\r00");
	refused("port with a carriage return", FILE_NAME ":9: ",
		"port: the value contains a control character");
	bad_line(36, "args = -S", "args: belongs in [qemu], not [control]");
	bad_line(21, "tap =;t", "tap: a value cannot start with ';'");
	build_line(36, "[qemu]\nargs = -S");
	refused("args twice", FILE_NAME ":37: ", "args: given twice (first on line 13)");

	/* inih reports its syntax errors after reading the file: the first line wins */
	strcpy(text, "[vm]\nname = vm0\nrole\nram = 64Q\n");
	refused("a syntax error before a bad value", FILE_NAME ":3: ", "expected [section]");

	build_line(9, "port = 7200 ; the agent port");
	accepted("a ';' comment after a value");
	build_line(7, "[peer] ; the other host");
	accepted("a comment after [peer]");

	/* a line too long for inih's buffer is refused, not split */
	memset(line, 'a', sizeof(line));
	memcpy(line, "args = ", 7);
	line[197] = '\0';
	build_line(13, line);
	refused("a 197-character line", FILE_NAME ":13: ", "longer than 196 characters");
	line[196] = '\0';
	build_line(13, line);
	accepted("a 196-character line");
}

static void test_required(void)
{
	static const char *const required[][2] = {
		{ "vm", "name" }, { "vm", "role" }, { "vm", "ram" }, { "peer", "address" },
		{ "peer", "local" }, { "disk", "device" }, { "net", "tap" }, { "net", "mac" },
	};
	char want[64], what[64];
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		build(required[i][1], NULL);
		snprintf(want, sizeof(want), FILE_NAME ": [%s] %s is required", required[i][0],
			 required[i][1]);
		snprintf(what, sizeof(what), "without %s", required[i][1]);
		refused(what, want, "");
	}
	text[0] = '\0';
	refused("an empty file", FILE_NAME ": [vm] name is required", "");
}

static void test_whole_file(void)
{
	struct colod_config c;
	char err[256];
	const char *primary_buffer = "[vm]\nname = p\nrole = primary\nram = 64M\n"
		"[peer]\naddress = 192.0.2.2\nlocal = 192.0.2.1\n"
		"[disk]\ndevice = /dev/sdb\nbuffer = 1G\n"
		"[net]\ntap = tap0\nmac = 52:54:00:00:00:01\n";
	const char *primary_nbd_timeout = "[vm]\nname = p\nrole = primary\nram = 64M\n"
		"[peer]\naddress = 192.0.2.2\nlocal = 192.0.2.1\n"
		"[disk]\ndevice = /dev/sdb\nnbd_timeout = ";

	strcpy(text, primary_buffer);
	refused("buffer on a primary", FILE_NAME ":10: buffer: ",
		"only a secondary uses it, and role is primary");
	strcpy(text, minimal);
	strcat(text, "[checkpoint]\ndisk_buffer_percent = 50\n");
	refused("disk_buffer_percent on a primary", FILE_NAME ":14: disk_buffer_percent: ",
		"only a secondary uses it");
	build_line(19, "nbd_timeout = 60s");
	refused("nbd_timeout on a secondary", FILE_NAME ":19: nbd_timeout: ",
		"only a primary uses it, and role is secondary");
	strcpy(text, primary_nbd_timeout);
	strcat(text, "90s\n[net]\ntap = tap0\nmac = 52:54:00:00:00:01\n");
	if (tap_check(!colod_config_parse_string(text, FILE_NAME, &c, err, sizeof(err)),
		      "a primary's nbd_timeout: %s", err)) {
		tap_check(c.nbd_timeout_ms == 90000, "nbd_timeout = 90s: %u ms", c.nbd_timeout_ms);
		colod_config_free(&c);
	}
	strcpy(text, primary_nbd_timeout);
	strcat(text, "500ms\n");
	refused("nbd_timeout below 1s", FILE_NAME ":10: nbd_timeout: ", "outside 1s..3600s");
	build_line(19, "drain_timeout = 1s");
	refused("drain_timeout on a secondary", FILE_NAME ":19: drain_timeout: ",
		"only a primary uses it, and role is secondary");
	strcpy(text, primary_buffer);
	*strstr(text, "buffer = 1G") = '\0';
	strcat(text, "drain_timeout = 250ms\n[net]\ntap = tap0\nmac = 52:54:00:00:00:01\n");
	if (tap_check(!colod_config_parse_string(text, FILE_NAME, &c, err, sizeof(err)),
		      "a primary's drain_timeout: %s", err)) {
		tap_check(c.drain_timeout_ms == 250, "drain_timeout = 250ms: %u ms",
			  c.drain_timeout_ms);
		colod_config_free(&c);
	}
	strcpy(text, primary_buffer);
	*strstr(text, "buffer = 1G") = '\0';
	strcat(text, "drain_timeout = 601s\n");
	refused("drain_timeout over 600s", FILE_NAME ":10: drain_timeout: ", "outside 10ms..600s");

	build("local", "2001:db8::2");
	refused("IPv6 local, IPv4 address", FILE_NAME ":10: ", "not both IPv4 or both IPv6");
	build("local", "192.0.2.1");
	refused("local == address", FILE_NAME ":10: ", "the same address");
	build("nbd_port", "7200");
	refused("nbd_port == port", FILE_NAME ":19: ", "nbd_port and [peer] port are both 7200");
	strcpy(text, minimal);
	strcpy(strstr(text, "[disk]"), "port = 10809\n[disk]\ndevice = /dev/sdb\n"
	       "[net]\ntap = tap0\nmac = 52:54:00:00:00:01\n");
	refused("port == default nbd_port", FILE_NAME ":8: ", "both 10809");

	/* inih's [section] resets continuation: an indented key after it is a key */
	build_line(8, "  address = 192.0.2.1");
	accepted("an indented key after [peer]");

	/* CRLF line ends and a UTF-8 byte order mark */
	{
		char crlf[sizeof(minimal) * 2 + 3] = "\xef\xbb\xbf";
		const char *p;
		size_t n = 3;

		for (p = minimal; *p; p++) {
			if (*p == '\n')
				crlf[n++] = '\r';
			crlf[n++] = *p;
		}
		crlf[n] = '\0';
		tap_check(!parse(crlf, &c, err, sizeof(err)) && !strcmp(c.name, "vm1"),
			  "CRLF and byte order mark: %s", err);
		colod_config_free(&c);
		tap_check(parse("[vm]\r\nname = vm0\r\n\r\nram = 64Q\r\n", &c, err, sizeof(err)) &&
			  !strncmp(err, FILE_NAME ":4: ram:", strlen(FILE_NAME ":4: ram:")),
			  "CRLF line numbers: %s", err);
	}

	tap_check(parse("[vm]\nname = x\n", &c, NULL, 0) == -1, "refused without an error buffer");
	tap_check(parse("[vm]\nram = 1Q\n", &c, err, 12) == -1 && strlen(err) == 11,
		  "a short error buffer gets a truncated message: \"%s\"", err);
}

/* Print c, parse it back, compare, print again: the same text. */
static void round_trip(const char *what, const char *t)
{
	struct colod_config a, b;
	char err[256], *out1 = NULL, *out2 = NULL;
	size_t len1, len2;
	FILE *f;

	if (!tap_check(!parse(t, &a, err, sizeof(err)), "%s: parsed: %s", what, err))
		return;
	f = open_memstream(&out1, &len1);
	colod_config_print(f, &a);
	fclose(f);
	tap_check(!parse(out1, &b, err, sizeof(err)) && colod_config_equal(&a, &b),
		  "%s: printed, parsed back equal: %s", what, err);
	f = open_memstream(&out2, &len2);
	colod_config_print(f, &b);
	fclose(f);
	tap_check(len1 == len2 && !strcmp(out1, out2), "%s: printed the same twice", what);
	colod_config_free(&a);
	colod_config_free(&b);
	free(out1);
	free(out2);
}

static void test_round_trip(void)
{
	struct colod_config a, b;
	char err[256], *out = NULL, long_word[200];
	size_t len, i;
	FILE *f;

	build(NULL, NULL);
	round_trip("full file", text);
	round_trip("required keys only", minimal);
	build("args", "-name 'it'\\''s' -append \"a \\\"quoted\\\" \\\\ word\" '' \"#x\" a=b,c:d");
	round_trip("quoted args", text);
	build_line(14, "  'a ;b' \"c\t;d\" ' ;'");
	round_trip("args with ';' after whitespace", text);
	/* glibc's wordexp() splits ''a into "" and "a": never print a leading '' */
	build_line(14, "  \"'\\ x\\\"\" \"'\" ''a");
	round_trip("args starting with a quote", text);
	build2("address", "fe80::1%1", "local", "fe80::2%lo");
	round_trip("link-local IPv6 with a scope", text);
	build2("ram", "4198400", "buffer", "65537");
	round_trip("sizes in K and bytes", text);
	memset(long_word, 'a', sizeof(long_word));
	long_word[0] = '\t';
	long_word[196] = '\0';
	build_line(14, long_word);
	round_trip("a 195-character argument", text);

	/* a long command line is printed over indented continuation lines */
	strcpy(text, minimal);
	strcat(text, "[qemu]\nargs = -M pc");
	for (i = 0; i < 60; i++)
		strcat(text, "\n  -device virtio-rng-pci,id=rng");
	strcat(text, "\n");
	round_trip("60-line args", text);
	if (!parse(text, &a, err, sizeof(err))) {
		f = open_memstream(&out, &len);
		colod_config_print(f, &a);
		fclose(f);
		tap_check(a.qemu_argc == 122 && strstr(out, "\n\t-device"),
			  "60-line args: %zu words, printed wrapped", a.qemu_argc);
		free(out);
		colod_config_free(&a);
	}

	build(NULL, NULL);
	parse(text, &a, err, sizeof(err));
	build("args", "-M q35");
	parse(text, &b, err, sizeof(err));
	tap_check(!colod_config_equal(&a, &b), "different args compare unequal");
	colod_config_free(&b);
	build("mac", "52:54:00:12:34:57");
	parse(text, &b, err, sizeof(err));
	tap_check(!colod_config_equal(&a, &b), "different MACs compare unequal");
	colod_config_free(&a);
	colod_config_free(&b);
}

static void test_load(void)
{
	char path[] = "/tmp/colod-config-test.XXXXXX", err[256], want[128];
	struct colod_config c;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	if (!tap_check(fd >= 0, "temporary file"))
		return;
	f = fdopen(fd, "w");
	fputs(minimal, f);
	fclose(f);
	chmod(path, 0644);
	tap_check(!colod_config_load(path, &c, err, sizeof(err)) && !strcmp(c.tap, "tap0"),
		  "load a file: %s", err);
	colod_config_free(&c);

	chmod(path, 0666);
	snprintf(want, sizeof(want), "%s: anyone may write it", path);
	tap_check(colod_config_load(path, &c, err, sizeof(err)) == -1 &&
		  !strncmp(err, want, strlen(want)), "world-writable file refused: %s", err);
	chmod(path, 0644);

	f = fopen(path, "w");
	fputs("[vm]\nname = vm0\nram = 64Q\n", f);
	fclose(f);
	snprintf(want, sizeof(want), "%s:3: ram: '64Q' is not a size", path);
	tap_check(colod_config_load(path, &c, err, sizeof(err)) == -1 &&
		  !strncmp(err, want, strlen(want)), "errors name the path: %s", err);

	f = fopen(path, "w");
	fwrite("[vm]\nname = vm0\0\n", 1, 17, f);
	fclose(f);
	snprintf(want, sizeof(want), "%s:2: a NUL byte", path);
	tap_check(colod_config_load(path, &c, err, sizeof(err)) == -1 && !strcmp(err, want),
		  "NUL byte refused: %s", err);

	f = fopen(path, "w");
	for (fd = 0; fd <= COLOD_CONFIG_FILE_MAX / 8; fd++)
		fputs("# 12345\n", f);
	fclose(f);
	tap_check(colod_config_load(path, &c, err, sizeof(err)) == -1 && strstr(err, "larger than"),
		  "oversized file refused: %s", err);

	unlink(path);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	tap_check(colod_config_load(path, &c, err, sizeof(err)) == -1 && !strcmp(err, want) &&
		  all_zero(&c, sizeof(c)), "missing file: %s", err);
	tap_check(colod_config_load("/tmp", &c, err, sizeof(err)) == -1 &&
		  strstr(err, "not a regular file"), "a directory: %s", err);
}

int main(void)
{
	test_full();
	test_defaults();
	test_good_values();
	test_bad_values();
	test_args();
	test_structure();
	test_required();
	test_whole_file();
	test_round_trip();
	test_load();
	return tap_done();
}
