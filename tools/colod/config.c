// SPDX-License-Identifier: GPL-2.0
/*
 * colod.conf(5): libinih splits the text into sections and "key = value"
 * pairs; this file checks each value as it arrives, then the file as a whole
 * (required keys, the role, values that must differ), fills in the defaults,
 * and prints a configuration back in the same format.
 *
 * inih reads the text through read_line(), which counts the lines so that
 * every error names its line, refuses overlong lines instead of letting
 * inih split them, and follows the kind of each line so that an indented
 * continuation line (only [qemu] args may span lines) is told apart from a
 * second "key = value" of the same key: inih passes both to the handler
 * the same way.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/ether.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <wordexp.h>

#include "config.h"

/*
 * Longest line, without its line end. inih's line buffer is 200 bytes and
 * the text is read through it; print() wraps [qemu] args to stay within.
 */
#define CONFIG_LINE_MAX 196
#define ARGS_MAX 16384		/* [qemu] args once its lines are joined */
#define PATH_VALUE_MAX 160	/* binary, device: fits on a line with its key */
/* run_dir holds colod's sockets: their paths must fit in sun_path */
#define RUN_DIR_MAX 80
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define GUEST_PAGE_SIZE UINT64_C(4096)

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define MS_PER_S UINT64_C(1000)

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
/*
 * Characters wordexp() would expand: the command line must not depend on
 * colod's environment or on which files exist.
 */
#define ARGS_EXPANDING_CHARS "$`*?[~"
/* Characters that need no quoting when args are printed back. */
#define ARGS_BARE_CHARS NAME_CHARS "%+,/:=@"

enum value_type {
	TYPE_NAME,
	TYPE_ROLE,
	TYPE_SIZE,	/* bytes, optionally with a K, M or G suffix */
	TYPE_ADDRESS,
	TYPE_PORT,
	TYPE_PATH,	/* absolute, no whitespace, at most max characters */
	TYPE_ARGS,
	TYPE_IFNAME,
	TYPE_MAC,
	TYPE_DURATION,	/* with an ms or s suffix, kept in milliseconds */
	TYPE_NUMBER,
	TYPE_BOOL,	/* yes or no */
};

enum key_id {
	KEY_NAME, KEY_ROLE, KEY_RAM,
	KEY_ADDRESS, KEY_PORT, KEY_LOCAL,
	KEY_BINARY, KEY_ARGS, KEY_START_FROM, KEY_RUN_DIR,
	KEY_DEVICE, KEY_BUFFER, KEY_NBD_PORT, KEY_NBD_TIMEOUT, KEY_DRAIN_TIMEOUT,
	KEY_TAP, KEY_MAC, KEY_PROXY_PORT,
	KEY_MAX_INTERVAL, KEY_DIRTY_PAGES, KEY_DISK_BUFFER_PERCENT, KEY_PROXY_TIMEOUT,
	KEY_PROXY_TIMEOUT_NO_REPLICA, KEY_PROXY_QUEUE_BYTES,
	KEY_COROSYNC, KEY_LINK_LOSS_WAIT, KEY_FENCE, KEY_FENCE_TIMEOUT,
	KEY_SOCKET,
	NR_KEYS
};

struct key {
	const char *section;
	const char *name;
	enum value_type type;
	size_t offset;			/* of the value in struct colod_config */
	uint64_t min, max;		/* sizes, durations (ms), numbers; longest path */
	uint64_t multiple;		/* sizes: of this many bytes */
	bool required;
	const char *def;		/* default, as written in the file */
	enum colod_role only_role;	/* the role that uses the key, 0: both */
};

#define FIELD(f) offsetof(struct colod_config, f)

/* In file order: print() writes the keys in this order, grouped by section. */
static const struct key keys[NR_KEYS] = {
	[KEY_NAME] = { "vm", "name", TYPE_NAME, FIELD(name), .required = true },
	[KEY_ROLE] = { "vm", "role", TYPE_ROLE, FIELD(role), .required = true },
	[KEY_RAM] = { "vm", "ram", TYPE_SIZE, FIELD(ram_size), MIB, 512 * GIB,
		      .multiple = GUEST_PAGE_SIZE, .required = true },
	[KEY_ADDRESS] = { "peer", "address", TYPE_ADDRESS, FIELD(peer_addr), .required = true },
	[KEY_PORT] = { "peer", "port", TYPE_PORT, FIELD(peer_port), .def = "7100" },
	[KEY_LOCAL] = { "peer", "local", TYPE_ADDRESS, FIELD(local_addr), .required = true },
	[KEY_BINARY] = { "qemu", "binary", TYPE_PATH, FIELD(qemu_binary), .max = PATH_VALUE_MAX,
			 .def = "/usr/bin/qemu-system-x86_64" },
	[KEY_ARGS] = { "qemu", "args", TYPE_ARGS, FIELD(qemu_argv), .def = "" },
	/* optional: a saved VM state (a migration stream) the primary starts from */
	[KEY_START_FROM] = { "qemu", "start_from", TYPE_PATH, FIELD(start_from),
			     .max = PATH_VALUE_MAX, .only_role = COLOD_ROLE_PRIMARY },
	/* default /run/colod/<name>, set by check_file() */
	[KEY_RUN_DIR] = { "qemu", "run_dir", TYPE_PATH, FIELD(run_dir), .max = RUN_DIR_MAX },
	[KEY_DEVICE] = { "disk", "device", TYPE_PATH, FIELD(disk_device), .max = PATH_VALUE_MAX,
			 .required = true },
	/* the colo_blk secondary's buffer_limit range */
	[KEY_BUFFER] = { "disk", "buffer", TYPE_SIZE, FIELD(disk_buffer_size), 64 * KIB,
			 1024 * GIB, .def = "1G", .only_role = COLOD_ROLE_SECONDARY },
	[KEY_NBD_PORT] = { "disk", "nbd_port", TYPE_PORT, FIELD(nbd_port), .def = "10809" },
	/* the colo_blk primary's nbd_timeout range */
	[KEY_NBD_TIMEOUT] = { "disk", "nbd_timeout", TYPE_DURATION, FIELD(nbd_timeout_ms),
			      MS_PER_S, 3600 * MS_PER_S, .def = "30s",
			      .only_role = COLOD_ROLE_PRIMARY },
	/* the colo_blk primary's "checkpoint <timeout_ms>" range */
	[KEY_DRAIN_TIMEOUT] = { "disk", "drain_timeout", TYPE_DURATION, FIELD(drain_timeout_ms),
				10, 600 * MS_PER_S, .def = "5s", .only_role = COLOD_ROLE_PRIMARY },
	[KEY_TAP] = { "net", "tap", TYPE_IFNAME, FIELD(tap), .required = true },
	[KEY_MAC] = { "net", "mac", TYPE_MAC, FIELD(mac), .required = true },
	[KEY_PROXY_PORT] = { "net", "proxy_port", TYPE_PORT, FIELD(proxy_port), .def = "7000" },
	[KEY_MAX_INTERVAL] = { "checkpoint", "max_interval", TYPE_DURATION, FIELD(max_interval_ms),
			       10, 3600 * MS_PER_S, .def = "2s" },
	[KEY_DIRTY_PAGES] = { "checkpoint", "dirty_pages", TYPE_NUMBER, FIELD(dirty_pages),
			      0, 512 * GIB / GUEST_PAGE_SIZE, .def = "16384" },
	/* the colo_blk secondary's event_percent */
	[KEY_DISK_BUFFER_PERCENT] = { "checkpoint", "disk_buffer_percent", TYPE_NUMBER,
				      FIELD(disk_buffer_percent), 1, 100, .def = "75",
				      .only_role = COLOD_ROLE_SECONDARY },
	/* colo_proxy's TIMEOUT_MS range */
	[KEY_PROXY_TIMEOUT] = { "checkpoint", "proxy_timeout", TYPE_DURATION,
				FIELD(proxy_timeout_ms), 1, 3600 * MS_PER_S, .def = "2s" },
	/* the same range; while this agent is the primary */
	[KEY_PROXY_TIMEOUT_NO_REPLICA] = { "checkpoint", "proxy_timeout_no_replica", TYPE_DURATION,
					   FIELD(proxy_timeout_no_replica_ms), 1, 3600 * MS_PER_S,
					   .def = "20ms" },
	/* colo_proxy's QUEUE_BYTES (a u32); the default is its module's */
	[KEY_PROXY_QUEUE_BYTES] = { "checkpoint", "proxy_queue_bytes", TYPE_SIZE,
				    FIELD(proxy_queue_bytes), 4 * KIB, 4 * GIB - 1, .def = "16M" },
	[KEY_COROSYNC] = { "cluster", "corosync", TYPE_BOOL, FIELD(corosync), .def = "no" },
	[KEY_LINK_LOSS_WAIT] = { "cluster", "link_loss_wait", TYPE_DURATION,
				 FIELD(link_loss_wait_ms), 100, 600 * MS_PER_S, .def = "10s" },
	/* optional: what the secondary runs before it takes over */
	[KEY_FENCE] = { "cluster", "fence", TYPE_PATH, FIELD(fence), .max = PATH_VALUE_MAX,
			.only_role = COLOD_ROLE_SECONDARY },
	[KEY_FENCE_TIMEOUT] = { "cluster", "fence_timeout", TYPE_DURATION,
				FIELD(fence_timeout_ms), MS_PER_S, 3600 * MS_PER_S, .def = "60s",
				.only_role = COLOD_ROLE_SECONDARY },
	/* default /run/colod/<name>.sock, set by check_file() */
	[KEY_SOCKET] = { "control", "socket", TYPE_PATH, FIELD(control_socket),
			 .max = SOCKET_PATH_MAX },
};

/*
 * Options of the QEMU command line that colod builds itself: the guest's
 * RAM (shared with the checkpoint code), its disk and NIC (replicated),
 * QMP and -incoming (colod drives QEMU through them).
 */
#define REASON_RAM "colod gives the guest its RAM from [vm] ram"
#define REASON_DISK "colod adds the replicated disk from [disk]; any other would not be replicated"
#define REASON_NIC "colod adds the guest NIC from [net]"
static const struct {
	const char *option;
	const char *reason;
} owned_options[] = {
	{ "-m", REASON_RAM },
	{ "-mem-path", REASON_RAM },
	{ "-mem-prealloc", REASON_RAM },
	{ "-drive", REASON_DISK },
	{ "-blockdev", REASON_DISK },
	{ "-hda", REASON_DISK },
	{ "-hdb", REASON_DISK },
	{ "-hdc", REASON_DISK },
	{ "-hdd", REASON_DISK },
	{ "-netdev", REASON_NIC },
	{ "-nic", REASON_NIC },
	{ "-net", REASON_NIC },
	{ "-qmp", "colod adds its own QMP socket" },
	{ "-qmp-pretty", "colod adds its own QMP socket" },
	{ "-incoming", "colod adds -incoming itself" },
	{ "-daemonize", "colod keeps QEMU in the foreground to supervise it" },
};

struct parse_state {
	const char *file;		/* the name errors give */
	const char *next;		/* the text not read yet */
	int lineno;			/* the line last handed to inih */
	bool line_continues;		/* it continues the value of the key before it */
	bool key_in_section;		/* a key was read since the last [section] line */
	int key_line[NR_KEYS];		/* where each key was given, 0: not given */
	char *args;			/* [qemu] args being gathered, until the next key */
	struct colod_config *c;
	bool failed;
	int error_line;
	char *err;
	size_t errlen;
};

static void vformat_error(char *err, size_t errlen, const char *file, int line,
			  const char *fmt, va_list ap)
{
	int n;

	if (!errlen)
		return;
	if (line > 0)
		n = snprintf(err, errlen, "%s:%d: ", file, line);
	else
		n = snprintf(err, errlen, "%s: ", file);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
}

static void format_error(char *err, size_t errlen, const char *file, int line,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void format_error(char *err, size_t errlen, const char *file, int line,
			 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat_error(err, errlen, file, line, fmt, ap);
	va_end(ap);
}

/*
 * Record the first error, at line (0: the file as a whole). Returns false
 * so that checks can "return fail_at(...)".
 */
static bool fail_at(struct parse_state *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool fail_at(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list ap;

	if (st->failed)
		return false;
	st->failed = true;
	st->error_line = line;
	va_start(ap, fmt);
	vformat_error(st->err, st->errlen, st->file, line, fmt, ap);
	va_end(ap);
	return false;
}

/* Decimal digits only: no sign, no spaces; false when empty or past 64 bits. */
static bool parse_digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++) {
		unsigned int digit = (unsigned char)s[i] - '0';

		if (digit > 9 || v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
	size_t len = strlen(s);
	unsigned int shift = 0;
	uint64_t v;

	if (len) {
		switch (s[len - 1]) {
		case 'K': case 'k':
			shift = 10;
			break;
		case 'M': case 'm':
			shift = 20;
			break;
		case 'G': case 'g':
			shift = 30;
			break;
		}
	}
	if (shift)
		len--;
	if (!parse_digits(s, len, &v) || v > UINT64_MAX >> shift)
		return false;
	*out = v << shift;
	return true;
}

static void format_size(char *buf, size_t len, uint64_t v)
{
	if (v && v % GIB == 0)
		snprintf(buf, len, "%" PRIu64 "G", v / GIB);
	else if (v && v % MIB == 0)
		snprintf(buf, len, "%" PRIu64 "M", v / MIB);
	else if (v && v % KIB == 0)
		snprintf(buf, len, "%" PRIu64 "K", v / KIB);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

static bool parse_duration_ms(const char *s, uint64_t *out)
{
	size_t len = strlen(s);
	uint64_t v;

	if (len > 2 && !strcmp(s + len - 2, "ms")) {
		if (!parse_digits(s, len - 2, &v))
			return false;
	} else if (len > 1 && s[len - 1] == 's') {
		if (!parse_digits(s, len - 1, &v) || v > UINT64_MAX / MS_PER_S)
			return false;
		v *= MS_PER_S;
	} else {
		return false;
	}
	*out = v;
	return true;
}

static void format_duration(char *buf, size_t len, uint64_t ms)
{
	if (ms && ms % MS_PER_S == 0)
		snprintf(buf, len, "%" PRIu64 "s", ms / MS_PER_S);
	else
		snprintf(buf, len, "%" PRIu64 "ms", ms);
}

static void format_number(char *buf, size_t len, enum value_type type, uint64_t v)
{
	if (type == TYPE_SIZE)
		format_size(buf, len, v);
	else if (type == TYPE_DURATION)
		format_duration(buf, len, v);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

static bool valid_name(const char *s)
{
	size_t len = strlen(s);

	return len && len < COLOD_NAME_MAX && s[0] != '.' && s[0] != '-' &&
	       strspn(s, NAME_CHARS) == len;
}

/* As the kernel's dev_valid_name(). */
static bool valid_ifname(const char *s)
{
	size_t len = strlen(s), i;

	if (!len || len >= COLOD_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]))
			return false;
	return true;
}

static bool has_whitespace(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

/* Tabs separate words of args; any other control character is a mistake. */
static bool has_control_char(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

/*
 * Six two-digit bytes: ether_aton_r() alone also takes one-digit bytes and
 * ignores what follows the sixth.
 */
static bool parse_mac(const char *s, struct ether_addr *mac)
{
	size_t i;

	if (strlen(s) != 17)
		return false;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
	return ether_aton_r(s, mac);
}

/*
 * An IPv4 address in dotted quad (inet_pton: "10.1" is not 10.0.0.1), or an
 * IPv6 address with an optional %scope (getaddrinfo, numeric only, no DNS).
 * Returns NULL or why the value is refused.
 */
static const char *parse_address(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct addrinfo hints = {
		.ai_family = AF_INET6,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		uint32_t a = ntohl(sin->sin_addr.s_addr);

		sin->sin_family = AF_INET;
		if (a == INADDR_ANY || a == INADDR_BROADCAST || IN_MULTICAST(a))
			return "is not a unicast address";
		return NULL;
	}
	if (getaddrinfo(s, NULL, &hints, &ai))
		return strchr(s, '%') ? "is not an IPv6 address with a known %interface" :
					"is not an IPv4 or IPv6 address";
	if (ai->ai_family != AF_INET6 || ai->ai_addrlen != sizeof(*sin6)) {
		freeaddrinfo(ai);
		return "is not an IPv4 or IPv6 address";
	}
	memcpy(sin6, ai->ai_addr, sizeof(*sin6));
	freeaddrinfo(ai);
	sin6->sin6_port = 0;
	sin6->sin6_flowinfo = 0;
	if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) || IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr))
		return "is not a unicast address";
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return "is IPv4-mapped: write the IPv4 address";
	if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) && !sin6->sin6_scope_id)
		return "is link-local: add its interface (fe80::1%eth0)";
	return NULL;
}

static void format_address(char *buf, size_t len, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	buf[0] = '\0';
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, buf, len);
	else if (ss->ss_family == AF_INET6 &&
		 getnameinfo((const struct sockaddr *)ss, sizeof(struct sockaddr_in6), buf, len,
			     NULL, 0, NI_NUMERICHOST))
		buf[0] = '\0';
}

bool colod_same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr) &&
		       a6->sin6_scope_id == b6->sin6_scope_id;
	return true;
}

static void emit(char *out, size_t size, size_t *n, char ch)
{
	if (*n + 1 < size)
		out[*n] = ch;
	(*n)++;
}

/*
 * Quote word into out (snprintf-like: returns the length it needs) so that
 * wordexp() gives it back: bare when it can be, else in single or double
 * quotes, whichever is shorter. Inside double quotes only '"' and '\' need
 * a backslash: '$' and '`' never get here. In single quotes a '\'' goes
 * outside them, as "\'"; so does a ';' after whitespace, which would start
 * an inih comment, as "\;". Quotes open only in front of a character:
 * glibc's wordexp() splits a word that starts with an empty '' or "".
 */
static size_t quote_word(const char *word, char *out, size_t size)
{
	size_t single_quotes = 0, escapes = 0, n = 0;
	bool bare = *word, open = false, outside;
	const char *p;
	char quote;

	for (p = word; *p; p++) {
		if (!strchr(ARGS_BARE_CHARS, *p))
			bare = false;
		if (*p == '\'')
			single_quotes++;
		if (*p == '"' || *p == '\\')
			escapes++;
	}
	quote = 3 * single_quotes <= escapes ? '\'' : '"';
	if (!*word) {
		emit(out, size, &n, quote);
		emit(out, size, &n, quote);
	}
	for (p = word; *p; p++) {
		outside = !bare && ((quote == '\'' && *p == '\'') ||
				    (*p == ';' && p > word && isspace((unsigned char)p[-1])));
		if (!bare && open == outside) {
			emit(out, size, &n, quote);
			open = !outside;
		}
		if (outside || (open && quote == '"' && (*p == '"' || *p == '\\')))
			emit(out, size, &n, '\\');
		emit(out, size, &n, *p);
	}
	if (open)
		emit(out, size, &n, quote);
	if (size)
		out[n < size ? n : size - 1] = '\0';
	return n;
}

static const char *owned_option_reason(const char *word)
{
	const char *option = word;
	size_t i;

	if (strstr(word, "memory-backend"))
		return "colod gives the guest its RAM backend itself";
	/* QEMU takes --option as -option */
	if (!strncmp(option, "--", 2))
		option++;
	for (i = 0; i < sizeof(owned_options) / sizeof(owned_options[0]); i++)
		if (!strcmp(option, owned_options[i].option))
			return owned_options[i].reason;
	return NULL;
}

/* Split [qemu] args, given at line (0: the default), into c->qemu_argv. */
static bool split_args(struct parse_state *st, const char *text, int line)
{
	struct colod_config *c = st->c;
	const char *expanding = strpbrk(text, ARGS_EXPANDING_CHARS);
	wordexp_t we = { 0 };
	const char *reason;
	bool ok = false;
	size_t i;
	int ret;

	if (expanding)
		return fail_at(st, line, "args: '%c' is not allowed: colod expands no variables, "
			       "commands, file name patterns or ~", *expanding);
	ret = wordexp(text, &we, WRDE_NOCMD | WRDE_UNDEF);
	switch (ret) {
	case 0:
		break;
	case WRDE_BADCHAR:
		return fail_at(st, line, "args: an unquoted |, &, ;, <, >, (, ), {, } or newline "
			       "(quote it)");
	case WRDE_SYNTAX:
		return fail_at(st, line, "args: unbalanced quotes");
	case WRDE_NOSPACE:
		wordfree(&we);
		return fail_at(st, line, "args: out of memory");
	default:
		return fail_at(st, line, "args: cannot be split into words (wordexp error %d)",
			       ret);
	}
	for (i = 0; i < we.we_wordc; i++) {
		reason = owned_option_reason(we.we_wordv[i]);
		if (reason) {
			fail_at(st, line, "args: '%s' is not allowed: %s", we.we_wordv[i], reason);
			goto out;
		}
		if (quote_word(we.we_wordv[i], NULL, 0) + 1 > CONFIG_LINE_MAX) {
			fail_at(st, line, "args: '%.32s...' is too long to be written back on one "
				"line (%d characters, quotes included)", we.we_wordv[i],
				CONFIG_LINE_MAX - 1);
			goto out;
		}
	}
	c->qemu_argv = calloc(we.we_wordc + 1, sizeof(char *));
	if (!c->qemu_argv) {
		fail_at(st, line, "args: out of memory");
		goto out;
	}
	for (i = 0; i < we.we_wordc; i++) {
		c->qemu_argv[i] = strdup(we.we_wordv[i]);
		if (!c->qemu_argv[i]) {
			fail_at(st, line, "args: out of memory");
			goto out;
		}
		c->qemu_argc++;
	}
	ok = true;
out:
	wordfree(&we);
	return ok;
}

static bool fail_range(struct parse_state *st, const struct key *k, const char *value, int line)
{
	char min[32], max[32];

	format_number(min, sizeof(min), k->type, k->min);
	format_number(max, sizeof(max), k->type, k->max);
	return fail_at(st, line, "%s: '%s' is outside %s..%s", k->name, value, min, max);
}

/* Check value for key id and store it in st->c; line 0 for a default. */
static bool set_value(struct parse_state *st, enum key_id id, const char *value, int line)
{
	const struct key *k = &keys[id];
	void *field = (char *)st->c + k->offset;
	struct ether_addr mac;
	const char *why;
	uint64_t v;

	switch (k->type) {
	case TYPE_NAME:
		if (!valid_name(value))
			return fail_at(st, line, "%s: '%s' is not a name (1..31 of A-Z a-z 0-9 "
				       "_ . -, not starting with . or -)", k->name, value);
		strcpy(field, value);
		return true;
	case TYPE_ROLE:
		if (!strcmp(value, "primary"))
			*(enum colod_role *)field = COLOD_ROLE_PRIMARY;
		else if (!strcmp(value, "secondary"))
			*(enum colod_role *)field = COLOD_ROLE_SECONDARY;
		else
			return fail_at(st, line, "%s: '%s' is not a role (primary or secondary)",
				       k->name, value);
		return true;
	case TYPE_SIZE:
		if (!parse_size(value, &v))
			return fail_at(st, line, "%s: '%s' is not a size (use bytes or K/M/G)",
				       k->name, value);
		if (v < k->min || v > k->max)
			return fail_range(st, k, value, line);
		if (k->multiple && v % k->multiple)
			return fail_at(st, line, "%s: '%s' is not a multiple of %" PRIu64 " bytes",
				       k->name, value, k->multiple);
		*(uint64_t *)field = v;
		return true;
	case TYPE_DURATION:
		if (!parse_duration_ms(value, &v))
			return fail_at(st, line, "%s: '%s' is not a duration (use ms or s: "
				       "500ms, 2s)", k->name, value);
		if (v < k->min || v > k->max)
			return fail_range(st, k, value, line);
		*(uint32_t *)field = v;
		return true;
	case TYPE_NUMBER:
		if (!parse_digits(value, strlen(value), &v))
			return fail_at(st, line, "%s: '%s' is not a number", k->name, value);
		if (v < k->min || v > k->max)
			return fail_range(st, k, value, line);
		*(uint32_t *)field = v;
		return true;
	case TYPE_PORT:
		if (!parse_digits(value, strlen(value), &v) || !v || v > 65535)
			return fail_at(st, line, "%s: '%s' is not a port (1..65535)", k->name,
				       value);
		*(uint16_t *)field = v;
		return true;
	case TYPE_ADDRESS:
		why = parse_address(value, field);
		if (why)
			return fail_at(st, line, "%s: '%s' %s", k->name, value, why);
		return true;
	case TYPE_PATH:
		if (value[0] != '/')
			return fail_at(st, line, "%s: '%s' is not an absolute path", k->name,
				       value);
		if (has_whitespace(value))
			return fail_at(st, line, "%s: '%s' contains whitespace (a comment must "
				       "be on a line of its own)", k->name, value);
		if (strlen(value) > k->max)
			return fail_at(st, line, "%s: '%s' is longer than %" PRIu64 " characters",
				       k->name, value, k->max);
		*(char **)field = strdup(value);
		if (!*(char **)field)
			return fail_at(st, line, "%s: out of memory", k->name);
		return true;
	case TYPE_ARGS:
		return split_args(st, value, line);
	case TYPE_BOOL:
		if (strcmp(value, "yes") && strcmp(value, "no"))
			return fail_at(st, line, "%s: '%s' is neither yes nor no", k->name, value);
		*(bool *)field = !strcmp(value, "yes");
		return true;
	case TYPE_IFNAME:
		if (!valid_ifname(value))
			return fail_at(st, line, "%s: '%s' is not an interface name (1..15 "
				       "characters, none of / : or whitespace)", k->name, value);
		strcpy(field, value);
		return true;
	case TYPE_MAC:
		if (!parse_mac(value, &mac))
			return fail_at(st, line, "%s: '%s' is not a MAC address "
				       "(52:54:00:12:34:56)", k->name, value);
		if ((mac.ether_addr_octet[0] & 1) ||
		    !memcmp(mac.ether_addr_octet, "\0\0\0\0\0\0", 6))
			return fail_at(st, line, "%s: '%s' is not a unicast MAC address",
				       k->name, value);
		memcpy(field, mac.ether_addr_octet, 6);
		return true;
	}
	return fail_at(st, line, "%s: unknown value type", k->name);
}

static int find_key(const char *name)
{
	int i;

	for (i = 0; i < NR_KEYS; i++)
		if (!strcmp(keys[i].name, name))
			return i;
	return -1;
}

static bool known_section(const char *name, size_t len)
{
	int i;

	for (i = 0; i < NR_KEYS; i++)
		if (strlen(keys[i].section) == len && !strncmp(keys[i].section, name, len))
			return true;
	return false;
}

/* Split the [qemu] args gathered so far, once its last line is read. */
static bool finish_args(struct parse_state *st)
{
	char *text = st->args;
	bool ok;

	if (!text)
		return true;
	st->args = NULL;
	ok = split_args(st, text, st->key_line[KEY_ARGS]);
	free(text);
	return ok;
}

static int continue_value(struct parse_state *st, const char *name, const char *value)
{
	size_t len, add;
	char *joined;

	if (!st->args || strcmp(name, keys[KEY_ARGS].name))
		return fail_at(st, st->lineno, "%s: this indented line continues its value; only "
			       "[qemu] args may span lines", name);
	if (has_control_char(value))
		return fail_at(st, st->lineno, "args: the value contains a control character");
	len = strlen(st->args);
	add = strlen(value);
	if (len + 1 + add > ARGS_MAX)
		return fail_at(st, st->lineno, "args: longer than %d characters", ARGS_MAX);
	joined = realloc(st->args, len + 1 + add + 1);
	if (!joined)
		return fail_at(st, st->lineno, "args: out of memory");
	joined[len] = ' ';
	memcpy(joined + len + 1, value, add + 1);
	st->args = joined;
	return 1;
}

/* inih's handler: one "key = value", or one continuation line of it. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	int id, line = st->lineno;

	st->key_in_section = true;
	if (st->line_continues)
		return continue_value(st, name, value);
	if (!finish_args(st))
		return 0;
	id = find_key(name);
	if (!*section)
		return id < 0 ? fail_at(st, line, "unknown key '%s' before any section", name) :
				fail_at(st, line, "%s: before any section (it belongs in [%s])",
					name, keys[id].section);
	if (id < 0)
		return fail_at(st, line, "unknown key '%s' in [%s]", name, section);
	if (strcmp(keys[id].section, section))
		return fail_at(st, line, "%s: belongs in [%s], not [%s]", name, keys[id].section,
			       section);
	if (st->key_line[id])
		return fail_at(st, line, "%s: given twice (first on line %d)", name,
			       st->key_line[id]);
	st->key_line[id] = line;
	if (has_control_char(value))
		return fail_at(st, line, "%s: the value contains a control character", name);
	/* "key =;x" gives ";x", which "key = ;x" would not: a comment */
	if (value[0] == ';')
		return fail_at(st, line, "%s: a value cannot start with ';'", name);
	if (id == KEY_ARGS) {
		/* split once the continuation lines that may follow are read */
		st->args = strdup(value);
		return st->args ? 1 : fail_at(st, line, "args: out of memory");
	}
	return set_value(st, id, value, line);
}

/* A "[section]" line: known name, nothing but a comment after it. */
static void check_section_line(struct parse_state *st, const char *open)
{
	const char *close = strchr(open, ']'), *rest;
	int len;

	/* without ']' inih refuses the line */
	if (!close)
		return;
	st->key_in_section = false;
	len = close - open - 1;
	if (!known_section(open + 1, len)) {
		fail_at(st, st->lineno, "unknown section [%.*s]", len, open + 1);
		return;
	}
	for (rest = close + 1; isspace((unsigned char)*rest); rest++)
		;
	if (*rest && *rest != ';' && *rest != '#')
		fail_at(st, st->lineno, "text after [%.*s]", len, open + 1);
}

/*
 * Follow inih's reading of a line: blank and comment lines change nothing;
 * a non-blank indented line after a key of the same section continues that
 * key's value (Python configparser style); a "[section]" line starts a
 * section.
 */
static void classify_line(struct parse_state *st, const char *line)
{
	const char *p = line;
	bool indented;

	if (st->lineno == 1 && !strncmp(p, "\xef\xbb\xbf", 3))
		p += 3;		/* inih skips a UTF-8 byte order mark */
	indented = isspace((unsigned char)*p);
	while (isspace((unsigned char)*p))
		p++;
	st->line_continues = false;
	if (!*p || *p == ';' || *p == '#')
		return;
	if (indented && st->key_in_section)
		st->line_continues = true;
	else if (*p == '[')
		check_section_line(st, p);
}

/* inih's fgets()-like reader, over the text, one whole line at a time. */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse_state *st = stream;
	const char *line = st->next, *end;
	size_t len;

	if (st->failed || !*line)
		return NULL;
	st->lineno++;
	end = strchr(line, '\n');
	len = end ? (size_t)(end - line) : strlen(line);
	st->next = end ? end + 1 : line + len;
	if (len && line[len - 1] == '\r')
		len--;
	/* the line, a '\n' and a NUL must fit in inih's buffer (200 bytes) */
	if (len > CONFIG_LINE_MAX || len + 2 > (size_t)size) {
		fail_at(st, st->lineno, "the line is longer than %d characters (split [qemu] "
			"args over indented lines)", CONFIG_LINE_MAX);
		return NULL;
	}
	memcpy(buf, line, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	classify_line(st, buf);
	return st->failed ? NULL : buf;
}

static const char *role_name(enum colod_role role)
{
	return role == COLOD_ROLE_SECONDARY ? "secondary" : "primary";
}

static bool key_applies(const struct key *k, enum colod_role role)
{
	return !k->only_role || k->only_role == role;
}

/* Whole-file checks after every line is read; then the defaults. */
static bool check_file(struct parse_state *st)
{
	struct colod_config *c = st->c;
	char text[64];
	int i, line;

	for (i = 0; i < NR_KEYS; i++)
		if (keys[i].required && !st->key_line[i])
			return fail_at(st, 0, "[%s] %s is required", keys[i].section, keys[i].name);
	for (i = 0; i < NR_KEYS; i++)
		if (st->key_line[i] && !key_applies(&keys[i], c->role))
			return fail_at(st, st->key_line[i], "%s: only a %s uses it, and role is %s",
				       keys[i].name, role_name(keys[i].only_role),
				       role_name(c->role));

	for (i = 0; i < NR_KEYS; i++)
		if (!st->key_line[i] && keys[i].def && key_applies(&keys[i], c->role) &&
		    !set_value(st, i, keys[i].def, 0))
			return false;
	snprintf(text, sizeof(text), "/run/colod/%s", c->name);
	if (!st->key_line[KEY_RUN_DIR] && !set_value(st, KEY_RUN_DIR, text, 0))
		return false;
	snprintf(text, sizeof(text), "/run/colod/%s.sock", c->name);
	if (!st->key_line[KEY_SOCKET] && !set_value(st, KEY_SOCKET, text, 0))
		return false;

	line = st->key_line[KEY_ADDRESS] > st->key_line[KEY_LOCAL] ?
	       st->key_line[KEY_ADDRESS] : st->key_line[KEY_LOCAL];
	if (c->peer_addr.ss_family != c->local_addr.ss_family)
		return fail_at(st, line, "local and address are not both IPv4 or both IPv6");
	if (colod_same_address(&c->peer_addr, &c->local_addr))
		return fail_at(st, line, "local and address are the same address");
	/* the secondary listens on both, the primary connects to both */
	if (c->peer_port == c->nbd_port)
		return fail_at(st, st->key_line[KEY_PORT] > st->key_line[KEY_NBD_PORT] ?
			       st->key_line[KEY_PORT] : st->key_line[KEY_NBD_PORT],
			       "nbd_port and [peer] port are both %u", c->nbd_port);
	return true;
}

int colod_config_parse_string(const char *text, const char *name_for_messages,
			      struct colod_config *c, char *err, size_t errlen)
{
	struct colod_config parsed = { 0 };
	struct parse_state st = {
		.file = name_for_messages,
		.next = text,
		.c = &parsed,
		.err = err,
		.errlen = errlen,
	};
	int ret;

	if (errlen)
		err[0] = '\0';
	ret = ini_parse_stream(read_line, &st, on_key, &st);
	/* inih's own first error (a line that is no pair, section or comment) may come first */
	if (ret > 0 && (!st.failed || ret < st.error_line)) {
		st.failed = false;
		fail_at(&st, ret, "expected [section], key = value or a comment");
	} else if (ret < 0) {
		fail_at(&st, 0, "inih error %d (out of memory?)", ret);
	}
	if (!st.failed)
		finish_args(&st);
	free(st.args);
	if (!st.failed)
		check_file(&st);
	if (st.failed) {
		colod_config_free(&parsed);
		memset(c, 0, sizeof(*c));
		return -1;
	}
	*c = parsed;
	return 0;
}

int colod_config_load(const char *path, struct colod_config *c, char *err, size_t errlen)
{
	char *text = NULL, *nul;
	struct stat sb;
	size_t len;
	int ret = -1;
	FILE *f;

	memset(c, 0, sizeof(*c));
	if (errlen)
		err[0] = '\0';
	f = fopen(path, "re");
	if (!f) {
		format_error(err, errlen, path, 0, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &sb)) {
		format_error(err, errlen, path, 0, "%s", strerror(errno));
	} else if (!S_ISREG(sb.st_mode)) {
		format_error(err, errlen, path, 0, "not a regular file");
	} else if (sb.st_mode & S_IWOTH) {
		/* it names the program colod runs as root */
		format_error(err, errlen, path, 0, "anyone may write it (chmod o-w)");
	} else if (!(text = malloc(COLOD_CONFIG_FILE_MAX + 1))) {
		format_error(err, errlen, path, 0, "out of memory");
	} else {
		len = fread(text, 1, COLOD_CONFIG_FILE_MAX + 1, f);
		if (ferror(f)) {
			format_error(err, errlen, path, 0, "read error");
		} else if (len > COLOD_CONFIG_FILE_MAX) {
			format_error(err, errlen, path, 0, "larger than %d bytes",
				     COLOD_CONFIG_FILE_MAX);
		} else if ((nul = memchr(text, '\0', len))) {
			int line = 1;
			const char *p;

			for (p = text; p < nul; p++)
				line += *p == '\n';
			format_error(err, errlen, path, line, "a NUL byte");
		} else {
			text[len] = '\0';
			ret = colod_config_parse_string(text, path, c, err, errlen);
		}
	}
	free(text);
	fclose(f);
	return ret;
}

void colod_config_free(struct colod_config *c)
{
	size_t i;

	free(c->qemu_binary);
	if (c->qemu_argv)
		for (i = 0; c->qemu_argv[i]; i++)
			free(c->qemu_argv[i]);
	free(c->qemu_argv);
	free(c->start_from);
	free(c->run_dir);
	free(c->disk_device);
	free(c->control_socket);
	free(c->fence);
	memset(c, 0, sizeof(*c));
}

/* Words on lines of at most CONFIG_LINE_MAX characters, as split_args() made sure they fit. */
static void print_args(FILE *f, const struct colod_config *c)
{
	size_t used = strlen("args ="), i, len;
	char word[CONFIG_LINE_MAX];

	fputs("args =", f);
	for (i = 0; i < c->qemu_argc; i++) {
		len = quote_word(c->qemu_argv[i], word, sizeof(word));
		if (used + 1 + len > CONFIG_LINE_MAX) {
			fputs("\n\t", f);
			used = 1;
		} else {
			fputc(' ', f);
			used++;
		}
		fputs(word, f);
		used += len;
	}
	fputc('\n', f);
}

void colod_config_print(FILE *f, const struct colod_config *c)
{
	const char *section = NULL;
	const uint8_t *mac = c->mac;
	char value[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	int i;

	for (i = 0; i < NR_KEYS; i++) {
		const struct key *k = &keys[i];
		const void *field = (const char *)c + k->offset;

		if (!key_applies(k, c->role))
			continue;
		if (!section || strcmp(section, k->section))
			fprintf(f, "%s[%s]\n", section ? "\n" : "", k->section);
		section = k->section;
		switch (k->type) {
		case TYPE_NAME:
		case TYPE_IFNAME:
			fprintf(f, "%s = %s\n", k->name, (const char *)field);
			break;
		case TYPE_ROLE:
			fprintf(f, "%s = %s\n", k->name, role_name(c->role));
			break;
		case TYPE_SIZE:
			format_size(value, sizeof(value), *(const uint64_t *)field);
			fprintf(f, "%s = %s\n", k->name, value);
			break;
		case TYPE_DURATION:
			format_duration(value, sizeof(value), *(const uint32_t *)field);
			fprintf(f, "%s = %s\n", k->name, value);
			break;
		case TYPE_NUMBER:
			fprintf(f, "%s = %" PRIu32 "\n", k->name, *(const uint32_t *)field);
			break;
		case TYPE_PORT:
			fprintf(f, "%s = %u\n", k->name, *(const uint16_t *)field);
			break;
		case TYPE_ADDRESS:
			format_address(value, sizeof(value), field);
			fprintf(f, "%s = %s\n", k->name, value);
			break;
		case TYPE_PATH:
			if (*(char *const *)field)
				fprintf(f, "%s = %s\n", k->name, *(char *const *)field);
			break;
		case TYPE_ARGS:
			print_args(f, c);
			break;
		case TYPE_BOOL:
			fprintf(f, "%s = %s\n", k->name, *(const bool *)field ? "yes" : "no");
			break;
		case TYPE_MAC:
			fprintf(f, "%s = %02x:%02x:%02x:%02x:%02x:%02x\n", k->name,
				mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
			break;
		}
	}
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool colod_config_equal(const struct colod_config *a, const struct colod_config *b)
{
	size_t i;

	if (strcmp(a->name, b->name) || a->role != b->role || a->ram_size != b->ram_size ||
	    !colod_same_address(&a->peer_addr, &b->peer_addr) || a->peer_port != b->peer_port ||
	    !colod_same_address(&a->local_addr, &b->local_addr) ||
	    !same_string(a->qemu_binary, b->qemu_binary) || a->qemu_argc != b->qemu_argc ||
	    !same_string(a->start_from, b->start_from) || !same_string(a->run_dir, b->run_dir) ||
	    !same_string(a->disk_device, b->disk_device) ||
	    a->disk_buffer_size != b->disk_buffer_size || a->nbd_port != b->nbd_port ||
	    a->nbd_timeout_ms != b->nbd_timeout_ms || a->drain_timeout_ms != b->drain_timeout_ms ||
	    strcmp(a->tap, b->tap) || memcmp(a->mac, b->mac, sizeof(a->mac)) ||
	    a->proxy_port != b->proxy_port || a->max_interval_ms != b->max_interval_ms ||
	    a->dirty_pages != b->dirty_pages || a->disk_buffer_percent != b->disk_buffer_percent ||
	    a->proxy_timeout_ms != b->proxy_timeout_ms ||
	    a->proxy_timeout_no_replica_ms != b->proxy_timeout_no_replica_ms ||
	    a->proxy_queue_bytes != b->proxy_queue_bytes || a->corosync != b->corosync ||
	    !same_string(a->fence, b->fence) || a->fence_timeout_ms != b->fence_timeout_ms ||
	    a->link_loss_wait_ms != b->link_loss_wait_ms ||
	    !same_string(a->control_socket, b->control_socket))
		return false;
	for (i = 0; i < a->qemu_argc; i++)
		if (!same_string(a->qemu_argv[i], b->qemu_argv[i]))
			return false;
	return true;
}
