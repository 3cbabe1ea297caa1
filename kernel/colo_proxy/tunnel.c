// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy tunnel: frames travel between the primary and the secondary
 * proxy in UDP datagrams of a kernel socket (udp_tunnel), so the two hosts may
 * sit on any routed IPv4 or IPv6 network.
 *
 * Each datagram carries one Ethernet frame after a small header with a
 * per-direction sequence number: the receiver counts gaps (lost frames, which
 * request a checkpoint since the SVM missed input or the compare missed
 * output) and late arrivals (reordering); see seqwin.h.
 *
 * GSO super-frames travel whole, as UDP tunnel GSO like VXLAN's: a path that
 * carries GSO (veth, NICs with tunnel offload, GRO at the receiver) moves one
 * 64 KiB datagram instead of forty-odd, and the receiver compares or injects
 * it as one frame. Where the stack segments it in software, every segment
 * repeats the tunnel header with its sequence number; the receiver takes the
 * repeats as such, so the loss of a single segment is not seen as a gap but
 * by the compare, whose held frame then times out into a checkpoint request.
 * Pending inner checksums (CHECKSUM_PARTIAL) stay pending; the outer UDP
 * checksum is zero, as the inner frames carry their own.
 */
#include <linux/if_vlan.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/ip_tunnels.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>

#include "proxy.h"

#define CP_TUN_MAGIC	0xc01a
#define CP_TUN_VERSION	1

struct cp_tun_hdr {
	__be16 magic;
	u8 version;
	u8 type;	/* CP_TUN_* */
	__be32 seq;
};

/* Caller holds inst->lock. */
static void cp_tunnel_lost(struct cp_instance *inst, u32 lost)
{
	if (!lost)
		return;
	cp_stat_add(inst, COLO_PROXY_STAT_TUNNEL_LOST, lost);
	/* One request until the next checkpoint, as for connections. */
	if (!inst->loss_requested) {
		inst->loss_requested = true;
		cp_request_checkpoint(inst, NULL, COLO_PROXY_REASON_TUNNEL_LOSS);
	}
}

static void cp_tunnel_rx_seq(struct cp_instance *inst, u32 seq)
{
	bool late;
	u32 lost;

	cp_stat_inc(inst, COLO_PROXY_STAT_TUNNEL_RX);
	spin_lock_bh(&inst->lock);
	lost = cp_seqwin_rx(&inst->rx_win, seq, &late);
	if (late)
		cp_stat_inc(inst, COLO_PROXY_STAT_TUNNEL_REORDERED);
	cp_tunnel_lost(inst, lost);
	spin_unlock_bh(&inst->lock);
}

/*
 * From the instance's timer, inst->lock held: numbers missing for a whole
 * timer period are lost, so a loss at the end of a burst is seen too.
 */
void cp_tunnel_expire(struct cp_instance *inst)
{
	cp_tunnel_lost(inst, cp_seqwin_expire(&inst->rx_win));
}

/*
 * Whether the datagram in @skb (skb->data at its UDP header) comes from the
 * peer's endpoint. The socket is not connected (a connected one would have
 * the stack answer strangers with port unreachable, uncounted), so the UDP
 * lookup hands us whatever reaches the local port. This keeps a host that
 * merely reaches the port from feeding frames to the SVM or the compare, or
 * moving the loss window; it is no authentication: whoever can send with
 * the peer's address passes (see "Protecting the tunnel" in colo-proxy.rst).
 */
static bool cp_tunnel_from_peer(const struct cp_instance *inst,
				const struct sk_buff *skb)
{
	if (udp_hdr(skb)->source != htons(inst->peer.port))
		return false;
	if (inst->peer.family == AF_INET6)
		return ipv6_addr_equal(&ipv6_hdr(skb)->saddr, &inst->peer.ip6);
	return ip_hdr(skb)->saddr == inst->peer.ip;
}

/* skb->data is at the UDP header. Always consumes the skb (returns 0). */
static int cp_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct cp_instance *inst = rcu_dereference_sk_user_data(sk);
	const struct cp_tun_hdr *hdr;
	size_t hlen = sizeof(struct udphdr) + sizeof(*hdr);
	u8 type;

	if (!inst)
		goto drop;
	if (!cp_tunnel_from_peer(inst, skb)) {
		cp_stat_inc(inst, COLO_PROXY_STAT_TUNNEL_FOREIGN);
		goto drop;
	}
	/*
	 * After failover the pair is over: the secondary's SVM is the live
	 * guest and takes its input from the network alone, the primary
	 * compares nothing. An old primary that still mirrors (it has not
	 * noticed, or it is someone using its address) must not write into
	 * the live guest, nor request checkpoints nobody serves.
	 */
	if (cp_failed_over(inst)) {
		cp_stat_inc(inst, COLO_PROXY_STAT_TUNNEL_AFTER_FAILOVER);
		goto drop;
	}
	if (!pskb_may_pull(skb, hlen + ETH_HLEN))
		goto bad;
	hdr = (const struct cp_tun_hdr *)(skb->data + sizeof(struct udphdr));
	if (hdr->magic != htons(CP_TUN_MAGIC) || hdr->version != CP_TUN_VERSION ||
	    hdr->type < CP_TUN_MIRROR || hdr->type > CP_TUN_CKPT)
		goto bad;
	type = hdr->type;
	cp_tunnel_rx_seq(inst, ntohl(hdr->seq));
	skb_pull_rcsum(skb, hlen);
	/* The inner frame is a plain (possibly GSO) Ethernet frame again. */
	if (iptunnel_pull_offloads(skb))
		goto bad;
	cp_tunnel_input(inst, type, skb);
	return 0;

bad:
	cp_stat_inc(inst, COLO_PROXY_STAT_TUNNEL_ERRORS);
drop:
	kfree_skb(skb);
	return 0;
}

int cp_tunnel_open(struct cp_instance *inst, struct netlink_ext_ack *extack)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.sk_user_data = inst,
		.encap_type = 1,
		.encap_rcv = cp_encap_rcv,
	};
	struct udp_port_cfg cfg = {
		.family = inst->local.family,
		.local_udp_port = htons(inst->local.port),
	};
	int err;

	if (cfg.family == AF_INET6) {
		cfg.local_ip6 = inst->local.ip6;
		cfg.ipv6_v6only = 1;
		/* The outer checksum is zero (see above): accept that. */
		cfg.use_udp6_rx_checksums = false;
	} else {
		cfg.local_ip.s_addr = inst->local.ip;
	}

	err = dst_cache_init(&inst->route, GFP_KERNEL);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot allocate the tunnel route cache");
		return err;
	}
	err = udp_sock_create(inst->net, &cfg, &inst->sock);
	if (err == -EADDRINUSE)
		NL_SET_ERR_MSG(extack, "tunnel UDP port already in use");
	else if (err == -EADDRNOTAVAIL)
		NL_SET_ERR_MSG(extack, "tunnel local address is not configured in this namespace");
	else if (err)
		NL_SET_ERR_MSG(extack, "cannot create the tunnel UDP socket");
	if (err) {
		dst_cache_destroy(&inst->route);
		return err;
	}
	setup_udp_tunnel_sock(inst->net, inst->sock, &tcfg);
	return 0;
}

void cp_tunnel_close(struct cp_instance *inst)
{
	/* Clears sk_user_data and waits for receivers still running. */
	udp_tunnel_sock_release(inst->sock);
	inst->sock = NULL;
	dst_cache_destroy(&inst->route);
}

/* Prepare @skb for encapsulation with @headroom and push the tunnel header. */
static int cp_tunnel_encap(struct cp_instance *inst, u8 type, struct sk_buff *skb,
			   unsigned int headroom)
{
	struct cp_tun_hdr *hdr;

	if (skb_cow_head(skb, headroom + sizeof(struct udphdr) + sizeof(*hdr)))
		return -ENOMEM;
	/* The inner headers are where the frame's headers are now. */
	skb_set_inner_protocol(skb, htons(ETH_P_TEB));
	if (udp_tunnel_handle_offloads(skb, false))
		return -ENOMEM;
	hdr = skb_push(skb, sizeof(*hdr));
	hdr->magic = htons(CP_TUN_MAGIC);
	hdr->version = CP_TUN_VERSION;
	hdr->type = type;
	hdr->seq = htonl(atomic_inc_return(&inst->tx_seq) - 1);
	skb->ignore_df = 1;
	return 0;
}

static int cp_tunnel_xmit4(struct cp_instance *inst, u8 type, struct sk_buff *skb)
{
	struct flowi4 fl4 = {
		.flowi4_proto = IPPROTO_UDP,
		.daddr = inst->peer.ip,
		.saddr = inst->local.ip,
		.fl4_dport = htons(inst->peer.port),
		.fl4_sport = htons(inst->local.port),
	};
	struct rtable *rt;

	/*
	 * The cache keeps the source address the lookup chose along with the
	 * route: with a wildcard local address only the lookup knows it.
	 */
	rt = dst_cache_get_ip4(&inst->route, &fl4.saddr);
	if (!rt) {
		rt = ip_route_output_key(inst->net, &fl4);
		if (IS_ERR(rt))
			return PTR_ERR(rt);
		dst_cache_set_ip4(&inst->route, &rt->dst, fl4.saddr);
	}
	if (cp_tunnel_encap(inst, type, skb, LL_RESERVED_SPACE(rt->dst.dev) +
			    sizeof(struct iphdr))) {
		ip_rt_put(rt);
		return -ENOMEM;
	}
	udp_tunnel_xmit_skb(rt, inst->sock->sk, skb, fl4.saddr, fl4.daddr, 0,
			    ip4_dst_hoplimit(&rt->dst), 0, fl4.fl4_sport,
			    fl4.fl4_dport, false, true);
	return 0;
}

static int cp_tunnel_xmit6(struct cp_instance *inst, u8 type, struct sk_buff *skb)
{
	struct flowi6 fl6 = {
		.flowi6_proto = IPPROTO_UDP,
		.daddr = inst->peer.ip6,
		.saddr = inst->local.ip6,
		.fl6_dport = htons(inst->peer.port),
		.fl6_sport = htons(inst->local.port),
	};
	struct dst_entry *dst;

	/* As for IPv4: the source address comes with the cached route. */
	dst = dst_cache_get_ip6(&inst->route, &fl6.saddr);
	if (!dst) {
		dst = ipv6_stub->ipv6_dst_lookup_flow(inst->net, inst->sock->sk, &fl6, NULL);
		if (IS_ERR(dst))
			return PTR_ERR(dst);
		dst_cache_set_ip6(&inst->route, dst, &fl6.saddr);
	}
	if (cp_tunnel_encap(inst, type, skb, LL_RESERVED_SPACE(dst->dev) +
			    sizeof(struct ipv6hdr))) {
		dst_release(dst);
		return -ENOMEM;
	}
	udp_tunnel6_xmit_skb(dst, inst->sock->sk, skb, dst->dev, &fl6.saddr,
			     &fl6.daddr, 0, ip6_dst_hoplimit(dst), 0,
			     fl6.fl6_sport, fl6.fl6_dport, true);
	return 0;
}

/*
 * Send the frame in @skb (skb->data at its MAC header) to the peer proxy;
 * consumes @skb.
 */
void cp_tunnel_send(struct cp_instance *inst, u8 type, struct sk_buff *skb)
{
	int err;

	skb_reset_mac_header(skb);
	if (skb_vlan_tag_present(skb)) {
		skb = __vlan_hwaccel_push_inside(skb);
		if (!skb)
			goto err;
		skb_reset_mac_header(skb);
	}
	/* The route cache is per CPU: stay on this one. */
	local_bh_disable();
	if (inst->local.family == AF_INET6)
		err = cp_tunnel_xmit6(inst, type, skb);
	else
		err = cp_tunnel_xmit4(inst, type, skb);
	local_bh_enable();
	if (err)
		goto err_free;
	cp_stat_inc(inst, COLO_PROXY_STAT_TUNNEL_TX);
	return;

err_free:
	kfree_skb(skb);
err:
	cp_stat_inc(inst, COLO_PROXY_STAT_TUNNEL_ERRORS);
}

/*
 * Primary: tell the secondary that this side has checkpointed, so that it
 * sends the SVM's frames again (cp_svm_out_release()). The datagram
 * carries an all-zero Ethernet header in place of a frame, which keeps the
 * receive path one shape. A lost one costs the secondary TIMEOUT_MS.
 */
void cp_tunnel_send_checkpointed(struct cp_instance *inst)
{
	struct sk_buff *skb = alloc_skb(ETH_HLEN, GFP_KERNEL);

	if (!skb) {
		cp_stat_inc(inst, COLO_PROXY_STAT_TUNNEL_ERRORS);
		return;
	}
	skb_put_zero(skb, ETH_HLEN);
	cp_tunnel_send(inst, CP_TUN_CKPT, skb);
}
