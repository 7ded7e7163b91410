#include "tiers.h"

#include <sched.h>

#include "alt_status.h"

static void ensure_listed(alt_tier_set *set)
{
    if (atomic_load_explicit(&set->state, memory_order_acquire) == 2)
        return;
    int expected = 0;
    if (atomic_compare_exchange_strong(&set->state, &expected, 1)) {
        set->count = 0;
        set->list(set);
        atomic_store(&set->current, set->count - 1);
        atomic_store_explicit(&set->state, 2, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&set->state, memory_order_acquire) != 2)
        sched_yield();
}

void alt_tiers_add(alt_tier_set *set, const char *name, const void *kernel)
{
    if (set->count < ALT_MAX_TIERS) {
        set->names[set->count] = name;
        set->kernels[set->count] = kernel;
        set->count++;
    }
}

int alt_tiers_count(alt_tier_set *set)
{
    ensure_listed(set);
    return set->count;
}

const char *alt_tiers_name(alt_tier_set *set, int tier)
{
    if (tier < 0 || tier >= alt_tiers_count(set))
        return NULL;
    return set->names[tier];
}

int alt_tiers_set(alt_tier_set *set, int tier)
{
    if (tier < 0 || tier >= alt_tiers_count(set))
        return ALT_EUNSUPPORTED;
    atomic_store(&set->current, tier);
    return ALT_OK;
}

int alt_tiers_get(alt_tier_set *set)
{
    ensure_listed(set);
    return atomic_load(&set->current);
}

const void *alt_tiers_active(alt_tier_set *set)
{
    return set->kernels[alt_tiers_get(set)];
}
