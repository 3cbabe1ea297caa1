// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy generic netlink family: instance create/delete/get/dump/set,
 * checkpoint, failover, and the "events" multicast group carrying checkpoint
 * requests. Every command, and joining the group, needs CAP_NET_ADMIN in the
 * user namespace that owns the caller's network namespace, as for other
 * per-namespace network devices and tunnels: GENL_UNS_ADMIN_PERM and
 * GENL_MCAST_CAP_NET_ADMIN check there (GENL_ADMIN_PERM would check the
 * initial user namespace).
 */
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "proxy.h"

/* Held frames wait at most an hour: longer is a configuration mistake. */
static struct netlink_range_validation cp_timeout_range = {
	.min = 1,
	.max = 3600 * 1000,
};

/* Bounds in limits.h: a table and a hold that fit any host, never zero. */
static struct netlink_range_validation cp_conn_max_range = {
	.min = CP_CONN_MAX_MIN,
	.max = CP_CONN_MAX_MAX,
};

static struct netlink_range_validation cp_hold_packets_range = {
	.min = CP_HOLD_PACKETS_MIN,
	.max = CP_HOLD_PACKETS_MAX,
};

static struct netlink_range_validation cp_hold_bytes_range = {
	.min = CP_HOLD_BYTES_MIN,
	.max = CP_HOLD_BYTES_MAX,
};

static const struct nla_policy cp_nl_policy[COLO_PROXY_A_MAX + 1] = {
	[COLO_PROXY_A_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[COLO_PROXY_A_IFNAME] = { .type = NLA_REJECT },
	[COLO_PROXY_A_ROLE] = NLA_POLICY_RANGE(NLA_U8, COLO_PROXY_ROLE_PRIMARY,
					       COLO_PROXY_ROLE_SECONDARY),
	[COLO_PROXY_A_STATE] = { .type = NLA_REJECT },
	[COLO_PROXY_A_LOCAL_ADDR] = { .type = NLA_BE32 },
	[COLO_PROXY_A_LOCAL_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[COLO_PROXY_A_PEER_ADDR] = { .type = NLA_BE32 },
	[COLO_PROXY_A_PEER_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[COLO_PROXY_A_TIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &cp_timeout_range),
	[COLO_PROXY_A_QUEUE_PACKETS] = NLA_POLICY_MIN(NLA_U32, 1),
	[COLO_PROXY_A_QUEUE_BYTES] = NLA_POLICY_MIN(NLA_U32, 1),
	[COLO_PROXY_A_STATS] = { .type = NLA_REJECT },
	[COLO_PROXY_A_REASON] = { .type = NLA_REJECT },
	[COLO_PROXY_A_CONN] = { .type = NLA_REJECT },
	[COLO_PROXY_A_LOCAL_ADDR6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[COLO_PROXY_A_PEER_ADDR6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[COLO_PROXY_A_CONN_MAX] = NLA_POLICY_FULL_RANGE(NLA_U32, &cp_conn_max_range),
	[COLO_PROXY_A_HOLD_PACKETS] = NLA_POLICY_FULL_RANGE(NLA_U32, &cp_hold_packets_range),
	[COLO_PROXY_A_HOLD_BYTES] = NLA_POLICY_FULL_RANGE(NLA_U32, &cp_hold_bytes_range),
	[COLO_PROXY_A_AWAIT_PEER] = { .type = NLA_FLAG },
};

static struct genl_family cp_family;

enum { CP_MCGRP_EVENTS };

/*
 * Events name the guests' connections (addresses and ports), so only the
 * namespace's administrators may listen. Without the flag any process of
 * the namespace could join the group: refuse to build rather than leak.
 * Upstream has it since 6.7, Debian's 6.1 kernels since 6.1.69-1.
 */
#ifndef GENL_MCAST_CAP_NET_ADMIN
#error "colo_proxy needs GENL_MCAST_CAP_NET_ADMIN (kernel 6.7, or a 6.1 stable kernel from 6.1.69)"
#endif

static const struct genl_multicast_group cp_mcgrps[] = {
	[CP_MCGRP_EVENTS] = {
		.name = COLO_PROXY_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

static int cp_put_endpoint(struct sk_buff *msg, const struct cp_endpoint *ep,
			   int attr4, int attr6, int attr_port)
{
	if (ep->family == AF_INET6 ?
	    nla_put_in6_addr(msg, attr6, &ep->ip6) :
	    nla_put_be32(msg, attr4, ep->ip))
		return -EMSGSIZE;
	return nla_put_u16(msg, attr_port, ep->port);
}

static int cp_fill_instance(struct sk_buff *msg, struct cp_instance *inst,
			    u32 portid, u32 seq, int flags)
{
	u64 stats[COLO_PROXY_STAT_MAX + 1];
	struct nlattr *nest;
	void *hdr;
	int i;

	hdr = genlmsg_put(msg, portid, seq, &cp_family, flags, COLO_PROXY_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	cp_instance_stats(inst, stats);
	if (nla_put_u32(msg, COLO_PROXY_A_IFINDEX, inst->dev->ifindex) ||
	    nla_put_string(msg, COLO_PROXY_A_IFNAME, inst->dev->name) ||
	    nla_put_u8(msg, COLO_PROXY_A_ROLE, inst->role) ||
	    nla_put_u8(msg, COLO_PROXY_A_STATE, READ_ONCE(inst->state)) ||
	    cp_put_endpoint(msg, &inst->local, COLO_PROXY_A_LOCAL_ADDR,
			    COLO_PROXY_A_LOCAL_ADDR6, COLO_PROXY_A_LOCAL_PORT) ||
	    cp_put_endpoint(msg, &inst->peer, COLO_PROXY_A_PEER_ADDR,
			    COLO_PROXY_A_PEER_ADDR6, COLO_PROXY_A_PEER_PORT) ||
	    nla_put_u32(msg, COLO_PROXY_A_TIMEOUT_MS, inst->timeout_ms) ||
	    nla_put_u32(msg, COLO_PROXY_A_QUEUE_PACKETS, inst->queue_packets) ||
	    nla_put_u32(msg, COLO_PROXY_A_QUEUE_BYTES, inst->queue_bytes) ||
	    nla_put_u32(msg, COLO_PROXY_A_CONN_MAX, inst->conn_max) ||
	    nla_put_u32(msg, COLO_PROXY_A_HOLD_PACKETS, inst->hold_packets) ||
	    nla_put_u32(msg, COLO_PROXY_A_HOLD_BYTES, inst->hold_bytes))
		goto cancel;
	nest = nla_nest_start(msg, COLO_PROXY_A_STATS);
	if (!nest)
		goto cancel;
	for (i = COLO_PROXY_STAT_PVM_FRAMES; i <= COLO_PROXY_STAT_MAX; i++)
		if (nla_put_u64_64bit(msg, i, stats[i], COLO_PROXY_STAT_PAD))
			goto cancel;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return 0;

cancel:
	genlmsg_cancel(msg, hdr);
	return -EMSGSIZE;
}

static const char *const cp_attr_names[COLO_PROXY_A_MAX + 1] = {
	[COLO_PROXY_A_IFINDEX] = "missing attribute: ifindex",
	[COLO_PROXY_A_ROLE] = "missing attribute: role",
	[COLO_PROXY_A_LOCAL_PORT] = "missing attribute: local port",
	[COLO_PROXY_A_PEER_PORT] = "missing attribute: peer port",
};

/* Marks the missing attribute in the extack and names it in the message. */
static bool cp_missing(struct genl_info *info, int attr)
{
	if (!GENL_REQ_ATTR_CHECK(info, attr))
		return false;
	/* NL_SET_ERR_MSG() only takes literals; the table is static too. */
	if (info->extack)
		info->extack->_msg = cp_attr_names[attr];
	return true;
}

/* Looks up the instance named by COLO_PROXY_A_IFINDEX; holds cp_net_lock. */
static struct cp_instance *cp_nl_instance(struct genl_info *info)
{
	struct cp_instance *inst;

	if (cp_missing(info, COLO_PROXY_A_IFINDEX))
		return ERR_PTR(-EINVAL);
	inst = cp_instance_find(genl_info_net(info),
				nla_get_u32(info->attrs[COLO_PROXY_A_IFINDEX]));
	if (!inst) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[COLO_PROXY_A_IFINDEX],
				    "no colo_proxy instance on this device");
		return ERR_PTR(-ENOENT);
	}
	return inst;
}

/* The tunnel's two ends: one address attribute each, of one family. */
static int cp_get_endpoints(struct genl_info *info, struct cp_instance_cfg *cfg)
{
	struct nlattr **a = info->attrs;
	struct nlattr *peer;
	bool bad_peer;

	if (!!a[COLO_PROXY_A_LOCAL_ADDR] == !!a[COLO_PROXY_A_LOCAL_ADDR6]) {
		NL_SET_ERR_MSG(info->extack,
			       "give the local address as exactly one of IPv4 or IPv6");
		return -EINVAL;
	}
	if (!!a[COLO_PROXY_A_PEER_ADDR] == !!a[COLO_PROXY_A_PEER_ADDR6]) {
		NL_SET_ERR_MSG(info->extack,
			       "give the peer address as exactly one of IPv4 or IPv6");
		return -EINVAL;
	}
	if (!!a[COLO_PROXY_A_LOCAL_ADDR] != !!a[COLO_PROXY_A_PEER_ADDR]) {
		NL_SET_ERR_MSG(info->extack,
			       "local and peer addresses must be of the same family");
		return -EINVAL;
	}
	cfg->local.port = nla_get_u16(a[COLO_PROXY_A_LOCAL_PORT]);
	cfg->peer.port = nla_get_u16(a[COLO_PROXY_A_PEER_PORT]);
	if (a[COLO_PROXY_A_LOCAL_ADDR]) {
		cfg->local.family = AF_INET;
		cfg->local.ip = nla_get_in_addr(a[COLO_PROXY_A_LOCAL_ADDR]);
		cfg->peer.family = AF_INET;
		cfg->peer.ip = nla_get_in_addr(a[COLO_PROXY_A_PEER_ADDR]);
		peer = a[COLO_PROXY_A_PEER_ADDR];
		bad_peer = ipv4_is_multicast(cfg->peer.ip) ||
			   ipv4_is_zeronet(cfg->peer.ip) ||
			   ipv4_is_lbcast(cfg->peer.ip);
	} else {
		cfg->local.family = AF_INET6;
		cfg->local.ip6 = nla_get_in6_addr(a[COLO_PROXY_A_LOCAL_ADDR6]);
		cfg->peer.family = AF_INET6;
		cfg->peer.ip6 = nla_get_in6_addr(a[COLO_PROXY_A_PEER_ADDR6]);
		peer = a[COLO_PROXY_A_PEER_ADDR6];
		/* A mapped IPv4 address belongs in the IPv4 attributes. */
		bad_peer = ipv6_addr_type(&cfg->peer.ip6) &
			   (IPV6_ADDR_ANY | IPV6_ADDR_MULTICAST | IPV6_ADDR_MAPPED);
	}
	if (bad_peer) {
		NL_SET_ERR_MSG_ATTR(info->extack, peer,
				    "peer address must be a unicast address");
		return -EINVAL;
	}
	return 0;
}

static u32 attr_u32_or(struct genl_info *info, int attr, u32 def)
{
	return info->attrs[attr] ? nla_get_u32(info->attrs[attr]) : def;
}

static int cp_nl_new(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct cp_instance_cfg cfg = {};
	struct net_device *dev;
	int err;

	if (cp_missing(info, COLO_PROXY_A_IFINDEX) ||
	    cp_missing(info, COLO_PROXY_A_ROLE) ||
	    cp_missing(info, COLO_PROXY_A_LOCAL_PORT) ||
	    cp_missing(info, COLO_PROXY_A_PEER_PORT))
		return -EINVAL;
	cfg.role = nla_get_u8(info->attrs[COLO_PROXY_A_ROLE]);
	err = cp_get_endpoints(info, &cfg);
	if (err)
		return err;
	cfg.timeout_ms = attr_u32_or(info, COLO_PROXY_A_TIMEOUT_MS,
				     READ_ONCE(cp_param_timeout_ms));
	cfg.queue_packets = attr_u32_or(info, COLO_PROXY_A_QUEUE_PACKETS,
					READ_ONCE(cp_param_queue_packets));
	cfg.queue_bytes = attr_u32_or(info, COLO_PROXY_A_QUEUE_BYTES,
				      READ_ONCE(cp_param_queue_bytes));
	if (!cfg.timeout_ms || !cfg.queue_packets || !cfg.queue_bytes) {
		NL_SET_ERR_MSG(info->extack, "module parameter defaults must not be zero");
		return -EINVAL;
	}
	/* The attributes are in range (policy); the parameters may not be. */
	cfg.conn_max = attr_u32_or(info, COLO_PROXY_A_CONN_MAX, READ_ONCE(cp_param_conn_max));
	if (cfg.conn_max < CP_CONN_MAX_MIN || cfg.conn_max > CP_CONN_MAX_MAX) {
		NL_SET_ERR_MSG(info->extack, "module parameter conn_max out of range");
		return -EINVAL;
	}
	cfg.hold_packets = attr_u32_or(info, COLO_PROXY_A_HOLD_PACKETS,
				       READ_ONCE(cp_param_hold_packets));
	if (cfg.hold_packets < CP_HOLD_PACKETS_MIN || cfg.hold_packets > CP_HOLD_PACKETS_MAX) {
		NL_SET_ERR_MSG(info->extack, "module parameter hold_packets out of range");
		return -EINVAL;
	}
	cfg.hold_bytes = attr_u32_or(info, COLO_PROXY_A_HOLD_BYTES,
				     READ_ONCE(cp_param_hold_bytes));
	if (cfg.hold_bytes < CP_HOLD_BYTES_MIN || cfg.hold_bytes > CP_HOLD_BYTES_MAX) {
		NL_SET_ERR_MSG(info->extack, "module parameter hold_bytes out of range");
		return -EINVAL;
	}

	rtnl_lock();
	dev = __dev_get_by_index(net, nla_get_u32(info->attrs[COLO_PROXY_A_IFINDEX]));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[COLO_PROXY_A_IFINDEX],
				    "no such device in this network namespace");
		err = -ENODEV;
		goto out_rtnl;
	}
	if (dev->type != ARPHRD_ETHER) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[COLO_PROXY_A_IFINDEX],
				    "device is not an Ethernet device");
		err = -EOPNOTSUPP;
		goto out_rtnl;
	}
	cfg.dev = dev;
	mutex_lock(&cp_net_lock);
	err = cp_instance_create(net, &cfg, info->extack);
	mutex_unlock(&cp_net_lock);
out_rtnl:
	rtnl_unlock();
	return err;
}

static int cp_nl_del(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_instance *inst;
	int err = 0;

	rtnl_lock();
	mutex_lock(&cp_net_lock);
	inst = cp_nl_instance(info);
	if (IS_ERR(inst))
		err = PTR_ERR(inst);
	else
		cp_instance_destroy(inst, true);
	mutex_unlock(&cp_net_lock);
	rtnl_unlock();
	return err;
}

static int cp_nl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_instance *inst;
	struct sk_buff *msg;
	int err;

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&cp_net_lock);
	inst = cp_nl_instance(info);
	if (IS_ERR(inst))
		err = PTR_ERR(inst);
	else
		err = cp_fill_instance(msg, inst, info->snd_portid, info->snd_seq, 0);
	mutex_unlock(&cp_net_lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int cp_nl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	struct cp_instance *inst;
	long idx = 0, start = cb->args[0];

	mutex_lock(&cp_net_lock);
	list_for_each_entry(inst, &cp_pernet(net)->instances, list) {
		if (idx++ < start)
			continue;
		if (cp_fill_instance(skb, inst, NETLINK_CB(cb->skb).portid,
				     cb->nlh->nlmsg_seq, NLM_F_MULTI)) {
			idx--;
			break;
		}
	}
	mutex_unlock(&cp_net_lock);
	cb->args[0] = idx;
	return skb->len;
}

static int cp_nl_checkpoint(struct sk_buff *skb, struct genl_info *info)
{
	bool await_peer = nla_get_flag(info->attrs[COLO_PROXY_A_AWAIT_PEER]);
	struct cp_instance *inst;
	int err = 0;

	mutex_lock(&cp_net_lock);
	inst = cp_nl_instance(info);
	if (IS_ERR(inst)) {
		err = PTR_ERR(inst);
	} else if (await_peer && inst->role != COLO_PROXY_ROLE_SECONDARY) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[COLO_PROXY_A_AWAIT_PEER],
				    "only a secondary awaits its peer's checkpoint");
		err = -EINVAL;
	} else {
		cp_instance_checkpoint(inst, await_peer);
	}
	mutex_unlock(&cp_net_lock);
	return err;
}

static int cp_nl_failover(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_instance *inst;
	int err = 0;

	mutex_lock(&cp_net_lock);
	inst = cp_nl_instance(info);
	if (IS_ERR(inst)) {
		err = PTR_ERR(inst);
	} else if (inst->state == COLO_PROXY_STATE_FAILED_OVER) {
		NL_SET_ERR_MSG(info->extack, "instance has already failed over");
		err = -EALREADY;
	} else {
		cp_instance_failover(inst);
	}
	mutex_unlock(&cp_net_lock);
	return err;
}

/* A command that is one operation on the instance IFINDEX names. */
static int cp_nl_on_instance(struct genl_info *info,
			     int (*op)(struct cp_instance *inst, struct netlink_ext_ack *extack))
{
	struct cp_instance *inst;
	int err;

	mutex_lock(&cp_net_lock);
	inst = cp_nl_instance(info);
	if (IS_ERR(inst))
		err = PTR_ERR(inst);
	else
		err = op(inst, info->extack);
	mutex_unlock(&cp_net_lock);
	return err;
}

static int cp_nl_hold_input(struct sk_buff *skb, struct genl_info *info)
{
	return cp_nl_on_instance(info, cp_instance_hold_input);
}

static int cp_nl_release_input(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_instance *inst;
	int err = 0;

	mutex_lock(&cp_net_lock);
	inst = cp_nl_instance(info);
	if (IS_ERR(inst)) {
		err = PTR_ERR(inst);
	} else if (inst->role != COLO_PROXY_ROLE_PRIMARY) {
		NL_SET_ERR_MSG(info->extack, "only a primary instance holds input");
		err = -EOPNOTSUPP;
	} else {
		cp_input_release(inst, !cp_failed_over(inst));
	}
	mutex_unlock(&cp_net_lock);
	return err;
}

static int cp_nl_seal(struct sk_buff *skb, struct genl_info *info)
{
	return cp_nl_on_instance(info, cp_instance_seal);
}

static int cp_nl_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct cp_instance *inst;
	int err = 0, i;

	/* Other limits are fixed at NEW: ignoring a request for them would lie. */
	for (i = COLO_PROXY_A_UNSPEC + 1; i <= COLO_PROXY_A_MAX; i++) {
		if (!a[i] || i == COLO_PROXY_A_IFINDEX || i == COLO_PROXY_A_TIMEOUT_MS ||
		    i == COLO_PROXY_A_QUEUE_PACKETS || i == COLO_PROXY_A_QUEUE_BYTES)
			continue;
		NL_SET_ERR_MSG_ATTR(info->extack, a[i],
				    "only timeout, queue packets and queue bytes can be set");
		return -EINVAL;
	}
	/* The policy keeps each in range, and 0 out: 0 means "unchanged" below. */
	if (!a[COLO_PROXY_A_TIMEOUT_MS] && !a[COLO_PROXY_A_QUEUE_PACKETS] &&
	    !a[COLO_PROXY_A_QUEUE_BYTES]) {
		NL_SET_ERR_MSG(info->extack,
			       "give at least one of timeout, queue packets, queue bytes");
		return -EINVAL;
	}
	mutex_lock(&cp_net_lock);
	inst = cp_nl_instance(info);
	if (IS_ERR(inst))
		err = PTR_ERR(inst);
	else
		cp_instance_set(inst, attr_u32_or(info, COLO_PROXY_A_TIMEOUT_MS, 0),
				attr_u32_or(info, COLO_PROXY_A_QUEUE_PACKETS, 0),
				attr_u32_or(info, COLO_PROXY_A_QUEUE_BYTES, 0));
	mutex_unlock(&cp_net_lock);
	return err;
}

static const struct genl_small_ops cp_ops[] = {
	{
		.cmd = COLO_PROXY_CMD_NEW,
		.doit = cp_nl_new,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = COLO_PROXY_CMD_DEL,
		.doit = cp_nl_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = COLO_PROXY_CMD_GET,
		.doit = cp_nl_get,
		.dumpit = cp_nl_dump,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = COLO_PROXY_CMD_CHECKPOINT,
		.doit = cp_nl_checkpoint,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = COLO_PROXY_CMD_FAILOVER,
		.doit = cp_nl_failover,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = COLO_PROXY_CMD_HOLD_INPUT,
		.doit = cp_nl_hold_input,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = COLO_PROXY_CMD_RELEASE_INPUT,
		.doit = cp_nl_release_input,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = COLO_PROXY_CMD_SEAL,
		.doit = cp_nl_seal,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = COLO_PROXY_CMD_SET,
		.doit = cp_nl_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family cp_family __ro_after_init = {
	.name = COLO_PROXY_GENL_NAME,
	.version = COLO_PROXY_GENL_VERSION,
	.maxattr = COLO_PROXY_A_MAX,
	/*
	 * Every command validates strictly (no legacy users to keep): no op
	 * relaxes it with .validate. From resv_start_op on (HOLD_INPUT and
	 * every op added after it) the core also refuses a non-zero reserved
	 * header field and request flags it cannot give a meaning, and
	 * refuses to register an op that would relax validation.
	 */
	.resv_start_op = COLO_PROXY_CMD_CHECKPOINT_REQUEST + 1,
	.policy = cp_nl_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = cp_ops,
	.n_small_ops = ARRAY_SIZE(cp_ops),
	.mcgrps = cp_mcgrps,
	.n_mcgrps = ARRAY_SIZE(cp_mcgrps),
};

static int cp_put_conn(struct sk_buff *msg, const struct cp_conn_key *key)
{
	int alen = key->family == 4 ? 4 : 16;
	struct nlattr *nest;

	nest = nla_nest_start(msg, COLO_PROXY_A_CONN);
	if (!nest ||
	    nla_put_u8(msg, COLO_PROXY_CONN_FAMILY, key->family == 4 ? AF_INET : AF_INET6) ||
	    nla_put_u8(msg, COLO_PROXY_CONN_PROTO, key->proto) ||
	    nla_put(msg, COLO_PROXY_CONN_GUEST_ADDR, alen, key->guest_addr) ||
	    nla_put_u16(msg, COLO_PROXY_CONN_GUEST_PORT, ntohs(key->guest_port)) ||
	    nla_put(msg, COLO_PROXY_CONN_PEER_ADDR, alen, key->peer_addr) ||
	    nla_put_u16(msg, COLO_PROXY_CONN_PEER_PORT, ntohs(key->peer_port)))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* Atomic context: called with the instance lock held from the data path. */
void cp_genl_event(struct cp_instance *inst, const struct cp_conn_key *key,
		   u32 reason)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&cp_family, inst->net, CP_MCGRP_EVENTS))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &cp_family, 0,
			  COLO_PROXY_CMD_CHECKPOINT_REQUEST);
	if (!hdr ||
	    nla_put_u32(msg, COLO_PROXY_A_IFINDEX, inst->dev->ifindex) ||
	    nla_put_u32(msg, COLO_PROXY_A_REASON, reason) ||
	    (key && cp_put_conn(msg, key))) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&cp_family, inst->net, msg, 0, CP_MCGRP_EVENTS,
				GFP_ATOMIC);
}

int cp_genl_register(void)
{
	return genl_register_family(&cp_family);
}

void cp_genl_unregister(void)
{
	genl_unregister_family(&cp_family);
}
