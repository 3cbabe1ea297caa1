// SPDX-License-Identifier: GPL-2.0
/*
 * Sends malformed colo_proxy netlink requests and checks that each one is
 * rejected with an errno and an extended ack message. Prints one line per
 * case; exits non-zero if any request was accepted or came back without a
 * message. Usage: proxy_badnl IFINDEX
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/colo_proxy.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

struct result {
	int done, err;
	char msg[256];
};

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct result *r = arg;
	struct nlattr *a;
	int len, rem;

	(void)nla;
	r->err = e->error;
	r->done = 1;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	len = NLMSG_HDRLEN + sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		len += e->msg.nlmsg_len - NLMSG_HDRLEN;
	a = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(len));
	rem = nlh->nlmsg_len - NLMSG_ALIGN(len);
	for (; rem > 0 && nla_ok(a, rem); a = nla_next(a, &rem))
		if (nla_type(a) == NLMSGERR_ATTR_MSG)
			snprintf(r->msg, sizeof(r->msg), "%s", (char *)nla_data(a));
	return NL_STOP;
}

static int ack_cb(struct nl_msg *m, void *arg)
{
	(void)m;
	((struct result *)arg)->done = 1;
	return NL_STOP;
}

static struct nl_sock *sk;
static int family, failures;

static void expect_reject(const char *name, struct nl_msg *msg)
{
	struct result r = { 0 };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	nl_cb_err(cb, NL_CB_CUSTOM, err_cb, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &r);
	nl_send_auto(sk, msg);
	nlmsg_free(msg);
	while (!r.done && nl_recvmsgs(sk, cb) >= 0)
		;
	nl_cb_put(cb);
	if (!r.err || !r.msg[0])
		failures++;
	printf("%-32s %s: errno %d (%s) \"%s\"\n", name,
	       r.err && r.msg[0] ? "rejected" : "NOT REJECTED WITH MESSAGE", -r.err,
	       strerror(-r.err), r.msg);
}

static struct nl_msg *req(int cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd, COLO_PROXY_GENL_VERSION);
	return m;
}

static void put_tunnel(struct nl_msg *m)
{
	nla_put_u32(m, COLO_PROXY_A_LOCAL_ADDR, htonl(0xc0a84d01));
	nla_put_u16(m, COLO_PROXY_A_LOCAL_PORT, 7100);
	nla_put_u32(m, COLO_PROXY_A_PEER_ADDR, htonl(0xc0a84d02));
	nla_put_u16(m, COLO_PROXY_A_PEER_PORT, 7100);
}

/* The table and hold limits: every value just outside its range, and zero. */
static void bound_cases(uint32_t ifindex)
{
	static const struct {
		const char *name;
		int attr;
		uint32_t value;
	} cases[] = {
		{ "new with conn-max 0", COLO_PROXY_A_CONN_MAX, 0 },
		{ "new with conn-max 15", COLO_PROXY_A_CONN_MAX, 15 },
		{ "new with conn-max 2^20 + 1", COLO_PROXY_A_CONN_MAX, (1U << 20) + 1 },
		{ "new with hold-packets 0", COLO_PROXY_A_HOLD_PACKETS, 0 },
		{ "new with hold-packets 15", COLO_PROXY_A_HOLD_PACKETS, 15 },
		{ "new with hold-packets 2^20 + 1", COLO_PROXY_A_HOLD_PACKETS, (1U << 20) + 1 },
		{ "new with hold-bytes 0", COLO_PROXY_A_HOLD_BYTES, 0 },
		{ "new with hold-bytes 65535", COLO_PROXY_A_HOLD_BYTES, 65535 },
		{ "new with hold-bytes 2^31 + 1", COLO_PROXY_A_HOLD_BYTES, (1U << 31) + 1 },
	};
	struct nl_msg *m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = req(COLO_PROXY_CMD_NEW);
		nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
		nla_put_u8(m, COLO_PROXY_A_ROLE, 1);
		put_tunnel(m);
		nla_put_u32(m, cases[i].attr, cases[i].value);
		expect_reject(cases[i].name, m);
	}
	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u8(m, COLO_PROXY_A_ROLE, 1);
	put_tunnel(m);
	nla_put_u64(m, COLO_PROXY_A_CONN_MAX, 1000);	/* u64 where u32 is expected */
	expect_reject("new with oversized conn-max", m);
}

int main(int argc, char **argv)
{
	struct nl_msg *m;
	int one = 1;
	uint32_t ifindex;

	if (argc != 2)
		return 2;
	ifindex = atoi(argv[1]);
	sk = nl_socket_alloc();
	genl_connect(sk);
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	family = genl_ctrl_resolve(sk, COLO_PROXY_GENL_NAME);
	if (family < 0) {
		fprintf(stderr, "family not found\n");
		return 1;
	}

	m = req(COLO_PROXY_CMD_NEW);
	expect_reject("new without attributes", m);

	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	put_tunnel(m);
	expect_reject("new without role", m);

	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u8(m, COLO_PROXY_A_ROLE, 3);
	put_tunnel(m);
	expect_reject("new with role 3", m);

	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u32(m, COLO_PROXY_A_ROLE, 1);	/* u32 where u8 is expected */
	put_tunnel(m);
	expect_reject("new with oversized role", m);

	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, 999999);
	nla_put_u8(m, COLO_PROXY_A_ROLE, 1);
	put_tunnel(m);
	expect_reject("new on unknown ifindex", m);

	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u8(m, COLO_PROXY_A_ROLE, 1);
	put_tunnel(m);
	nla_put_u16(m, COLO_PROXY_A_IFINDEX + 100, 1);	/* unknown attribute */
	expect_reject("new with unknown attribute", m);

	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u8(m, COLO_PROXY_A_ROLE, 1);
	put_tunnel(m);
	nla_put_u32(m, COLO_PROXY_A_TIMEOUT_MS, 0);
	expect_reject("new with timeout 0", m);

	bound_cases(ifindex);

	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u8(m, COLO_PROXY_A_ROLE, 1);
	put_tunnel(m);
	nla_put_string(m, COLO_PROXY_A_IFNAME, "x");
	expect_reject("new with read-only ifname", m);

	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u8(m, COLO_PROXY_A_ROLE, 1);
	nla_put_u32(m, COLO_PROXY_A_LOCAL_ADDR, htonl(0xc0a84d01));
	nla_put_u16(m, COLO_PROXY_A_LOCAL_PORT, 7100);
	nla_put_u32(m, COLO_PROXY_A_PEER_ADDR, htonl(0xe0000001));
	nla_put_u16(m, COLO_PROXY_A_PEER_PORT, 7100);
	expect_reject("new with multicast peer", m);

	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u8(m, COLO_PROXY_A_ROLE, 1);
	put_tunnel(m);
	nla_put(m, COLO_PROXY_A_LOCAL_ADDR6, 16, &in6addr_loopback);
	expect_reject("new with two local addresses", m);

	m = req(COLO_PROXY_CMD_NEW);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u8(m, COLO_PROXY_A_ROLE, 1);
	nla_put(m, COLO_PROXY_A_LOCAL_ADDR6, 15, &in6addr_loopback);
	nla_put_u16(m, COLO_PROXY_A_LOCAL_PORT, 7100);
	nla_put(m, COLO_PROXY_A_PEER_ADDR6, 16, &in6addr_loopback);
	nla_put_u16(m, COLO_PROXY_A_PEER_PORT, 7100);
	expect_reject("new with a 15-byte IPv6 address", m);

	m = req(COLO_PROXY_CMD_SET);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	expect_reject("set without a value", m);

	m = req(COLO_PROXY_CMD_SET);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u32(m, COLO_PROXY_A_TIMEOUT_MS, 3600 * 1000 + 1);
	expect_reject("set with timeout 3600001", m);

	m = req(COLO_PROXY_CMD_SET);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u32(m, COLO_PROXY_A_QUEUE_BYTES, 0);
	expect_reject("set with queue-bytes 0", m);

	m = req(COLO_PROXY_CMD_SET);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u32(m, COLO_PROXY_A_TIMEOUT_MS, 100);
	nla_put_u32(m, COLO_PROXY_A_CONN_MAX, 64);
	expect_reject("set with conn-max", m);

	m = req(COLO_PROXY_CMD_SET);
	nla_put_u32(m, COLO_PROXY_A_TIMEOUT_MS, 100);
	expect_reject("set without ifindex", m);

	m = req(COLO_PROXY_CMD_SET);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	nla_put_u32(m, COLO_PROXY_A_TIMEOUT_MS, 100);
	expect_reject("set without instance", m);

	m = req(COLO_PROXY_CMD_DEL);
	expect_reject("del without ifindex", m);

	m = req(COLO_PROXY_CMD_CHECKPOINT);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, ifindex);
	expect_reject("checkpoint without instance", m);

	m = req(COLO_PROXY_CMD_FAILOVER);
	nla_put_u32(m, COLO_PROXY_A_IFINDEX, 0);
	expect_reject("failover on ifindex 0", m);

	nl_socket_free(sk);
	return failures ? 1 : 0;
}
