// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy per-instance counters. Every frame bumps several of them, from
 * the softirqs of every CPU that sees the guest's traffic or the tunnel's:
 * each CPU counts in its own copy, and a reader sums the copies. The
 * instance lock is for the connection table, never for a counter.
 */
#include <linux/percpu.h>

#include "proxy.h"

int cp_stats_init(struct cp_instance *inst)
{
	int cpu;

	inst->stats = alloc_percpu(struct cp_stats_pcpu);
	if (!inst->stats)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(inst->stats, cpu)->syncp);
	return 0;
}

void cp_stats_uninit(struct cp_instance *inst)
{
	free_percpu(inst->stats);
	inst->stats = NULL;
}

/* Any context: the update is on this CPU's copy with preemption off. */
void cp_stat_add(struct cp_instance *inst, unsigned int stat, u64 n)
{
	struct cp_stats_pcpu *s = get_cpu_ptr(inst->stats);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_add(&s->v[stat], n);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(inst->stats);
}

/* The sum of every CPU's counters into @out (COLO_PROXY_STAT_MAX + 1). */
void cp_stats_sum(struct cp_instance *inst, u64 *out)
{
	unsigned int start, i;
	int cpu;

	memset(out, 0, sizeof(u64) * (COLO_PROXY_STAT_MAX + 1));
	for_each_possible_cpu(cpu) {
		const struct cp_stats_pcpu *s = per_cpu_ptr(inst->stats, cpu);
		u64 v[COLO_PROXY_STAT_MAX + 1];

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i <= COLO_PROXY_STAT_MAX; i++)
				v[i] = u64_stats_read(&s->v[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i <= COLO_PROXY_STAT_MAX; i++)
			out[i] += v[i];
	}
}
