#include "tiers.h"

#include <stdatomic.h>

#include "alt_status.h"
#include "once.h"

typedef struct family_state {
    const char *name;
    void (*list)(alt_tier_list *tiers);
    atomic_int listed;          /* alt_run_once state */
    alt_tier_list tiers;        /* written once, read-only after */
    atomic_int current;
    atomic_uint used;           /* bit per tier handed out */
} family_state;

#define ALT_FAMILY_STATE(id, family_name, list_fn) [id] = {.name = family_name, .list = list_fn},
static family_state families[ALT_FAMILY_COUNT] = {ALT_KERNEL_FAMILIES(ALT_FAMILY_STATE)};
#undef ALT_FAMILY_STATE

static void list_family(void *arg)
{
    family_state *f = arg;
    f->tiers.count = 0;
    f->list(&f->tiers);
    atomic_store_explicit(&f->current, f->tiers.count - 1, memory_order_relaxed);
}

static family_state *family(int id)
{
    if (id < 0 || id >= ALT_FAMILY_COUNT)
        return NULL;
    family_state *f = &families[id];
    alt_run_once(&f->listed, list_family, f);
    return f;
}

void alt_tiers_add(alt_tier_list *tiers, const char *name, const void *kernel)
{
    if (tiers->count < ALT_MAX_TIERS) {
        tiers->names[tiers->count] = name;
        tiers->kernels[tiers->count] = kernel;
        tiers->count++;
    }
}

const char *alt_tiers_family_name(int id)
{
    return id >= 0 && id < ALT_FAMILY_COUNT ? families[id].name : NULL;
}

int alt_tiers_count(int id)
{
    family_state *f = family(id);
    return f ? f->tiers.count : 0;
}

const char *alt_tiers_name(int id, int tier)
{
    family_state *f = family(id);
    return f && tier >= 0 && tier < f->tiers.count ? f->tiers.names[tier] : NULL;
}

int alt_tiers_set(int id, int tier)
{
    family_state *f = family(id);
    if (!f || tier < 0 || tier >= f->tiers.count)
        return ALT_EUNSUPPORTED;
    atomic_store(&f->current, tier);
    return ALT_OK;
}

int alt_tiers_get(int id)
{
    family_state *f = family(id);
    return f ? atomic_load(&f->current) : -1;
}

unsigned alt_tiers_used(int id)
{
    return id >= 0 && id < ALT_FAMILY_COUNT ? atomic_load(&families[id].used) : 0;
}

void alt_tiers_reset_used(void)
{
    for (int id = 0; id < ALT_FAMILY_COUNT; id++)
        atomic_store(&families[id].used, 0);
}

const void *alt_tiers_active(int id)
{
    family_state *f = family(id);
    int tier = atomic_load_explicit(&f->current, memory_order_relaxed);
    unsigned bit = 1u << tier;
    /* a plain load first: the word is written once per tier, and threads dispatching at once then only share
     * a read-only cache line */
    if (!(atomic_load_explicit(&f->used, memory_order_relaxed) & bit))
        atomic_fetch_or_explicit(&f->used, bit, memory_order_relaxed);
    return f->tiers.kernels[tier];
}
