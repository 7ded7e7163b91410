/* Internal to the emulator: per-link loss processes and per-entity outage cursors, both advanced in
 * closed form (one geometric or exponential draw per loss / outage, never one draw per frame). */
#ifndef ALT_EMU_LINK_H
#define ALT_EMU_LINK_H

#include <stdint.h>

#include "rng.h"

/* Attempts on one link: pos counts attempts made; next_loss is the (1-based) index of the next attempt that
 * fails. Gilbert-Elliott: sojourns in each state are geometric (memoryless), so drawing the next loss
 * within the current state and restarting at each state change is exact. */
typedef struct alt_emu_loss {
    alt_rng rng;
    int64_t pos, next_loss, sojourn_end;
    double p[2];          /* loss probability in state 0 (good) and 1 (bad) */
    double loss_k[2];     /* 1 / log1p(-p[s]) for the geometric draws */
    double leave_k[2];    /* the same for the probability of leaving state s after an attempt */
    int bursty, state;
} alt_emu_loss;

/* Attempts spent in the state just entered (geometric, >= 1). */
static inline int64_t alt_emu_sojourn(alt_emu_loss *l)
{
    return l->leave_k[l->state] == 0.0 ? 1 : alt_rng_geometric_fast(&l->rng, l->leave_k[l->state]);
}

static inline int64_t alt_emu_loss_draw_next(alt_emu_loss *l)
{
    if (!l->bursty)
        return l->pos + alt_rng_geometric_fast(&l->rng, l->loss_k[0]);
    if (l->p[0] <= 0.0 && l->p[1] <= 0.0)
        return ALT_RNG_NEVER;
    int64_t cur = l->pos;
    for (;;) {
        int64_t g = alt_rng_geometric_fast(&l->rng, l->loss_k[l->state]);
        if (g <= l->sojourn_end - cur)
            return cur + g;
        cur = l->sojourn_end;
        l->state ^= 1;
        l->sojourn_end = cur + alt_emu_sojourn(l);
    }
}

static inline void alt_emu_loss_init(alt_emu_loss *l, uint64_t seed, uint64_t inst, uint64_t stream,
                                     double per, double per_bad, double mean_good, double mean_bad)
{
    alt_rng_init(&l->rng, seed, inst, stream);
    l->pos = 0;
    l->p[0] = per;
    l->p[1] = per_bad;
    l->loss_k[0] = alt_rng_inv_log_q(per);
    l->loss_k[1] = alt_rng_inv_log_q(per_bad);
    l->bursty = mean_bad > 0.0;
    if (l->bursty) {
        /* a mean sojourn of 1 attempt leaves with probability 1: geometric gives exactly 1 */
        l->leave_k[0] = mean_good > 1.0 ? alt_rng_inv_log_q(1.0 / mean_good) : 0.0;
        l->leave_k[1] = mean_bad > 1.0 ? alt_rng_inv_log_q(1.0 / mean_bad) : 0.0;
        l->state = alt_rng_bernoulli(&l->rng, mean_bad / (mean_good + mean_bad));  /* stationary start */
        l->sojourn_end = alt_emu_sojourn(l);
    }
    l->next_loss = alt_emu_loss_draw_next(l);
}

/* One attempt: returns 1 if it failed. */
static inline int alt_emu_loss_attempt(alt_emu_loss *l)
{
    if (++l->pos != l->next_loss)
        return 0;
    l->next_loss = alt_emu_loss_draw_next(l);
    return 1;
}

/* Outage periods of one entity as [down_start, down_end) intervals in ns, in time order. Random ones
 * alternate exponential up and down times from t = 0 (up first); scheduled ones walk a sorted table. */
typedef struct alt_emu_outages {
    alt_rng rng;
    const int64_t *table;     /* scheduled [start, end) pairs, or NULL for random */
    size_t n_table, next;
    double mean_up_ns, mean_down_ns;
    int64_t down_start, down_end;
} alt_emu_outages;

static inline int64_t alt_emu_ns(double ns)
{
    return ns >= (double)ALT_RNG_NEVER ? ALT_RNG_NEVER : (int64_t)ns;
}

static inline void alt_emu_outages_step(alt_emu_outages *o)
{
    if (o->table) {
        if (o->next < o->n_table) {
            o->down_start = o->table[2 * o->next];
            o->down_end = o->table[2 * o->next + 1];
            o->next++;
        } else {
            o->down_start = o->down_end = ALT_RNG_NEVER;
        }
        return;
    }
    if (o->mean_down_ns <= 0.0) {
        o->down_start = o->down_end = ALT_RNG_NEVER;
        return;
    }
    int64_t up = alt_emu_ns(alt_rng_exponential(&o->rng, o->mean_up_ns));
    int64_t down = 1 + alt_emu_ns(alt_rng_exponential(&o->rng, o->mean_down_ns));   /* never empty */
    int64_t from = o->down_end;
    o->down_start = from > ALT_RNG_NEVER - up ? ALT_RNG_NEVER : from + up;
    o->down_end = o->down_start > ALT_RNG_NEVER - down ? ALT_RNG_NEVER : o->down_start + down;
}

/* Skips intervals that ended at or before t. */
static inline void alt_emu_outages_advance(alt_emu_outages *o, int64_t t)
{
    while (o->down_end <= t && o->down_start < ALT_RNG_NEVER)
        alt_emu_outages_step(o);
}

#endif
