/* The tier table every kernel family keeps (see the convention in cpu.h): which implementations this CPU
 * can run, their names, and the one in use. A family declares one alt_tier_set with a function that adds
 * its tiers, portable first and best last; listing happens once, on first use, from any thread. */
#ifndef ALT_TIERS_H
#define ALT_TIERS_H

#include <stdatomic.h>

#define ALT_MAX_TIERS 6

typedef struct alt_tier_set {
    void (*list)(struct alt_tier_set *set);   /* calls alt_tiers_add for each usable tier */
    atomic_int state;                         /* 0 not listed, 1 listing, 2 listed */
    atomic_int current;
    int count;
    const char *names[ALT_MAX_TIERS];
    const void *kernels[ALT_MAX_TIERS];
} alt_tier_set;

#define ALT_TIER_SET(list_fn) {.list = (list_fn)}

/* For the family's list function only. */
void alt_tiers_add(alt_tier_set *set, const char *name, const void *kernel);

int alt_tiers_count(alt_tier_set *set);
const char *alt_tiers_name(alt_tier_set *set, int tier);   /* NULL if out of range */
int alt_tiers_set(alt_tier_set *set, int tier);            /* ALT_OK or ALT_EUNSUPPORTED */
int alt_tiers_get(alt_tier_set *set);
const void *alt_tiers_active(alt_tier_set *set);           /* the kernel of the tier in use */

#endif
