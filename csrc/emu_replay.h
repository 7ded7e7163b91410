/* Internal to the emulator: exact shortcuts. A loss-free exchange, or one with a given pattern of failed
 * attempts, does exactly the same thing from the same duty-cycle state relative to its start (integer ns,
 * no outage in reach), so each is computed once per download and replayed; a loss-free exchange that leaves
 * the state unchanged repeats until the next loss, so a whole run of them is advanced in closed form. */
#ifndef ALT_EMU_REPLAY_H
#define ALT_EMU_REPLAY_H

#include "emu_exchange.h"

/* Duty-cycle state relative to t; release times in the past are all equivalent to "now". */
typedef struct rel_state { int64_t free[2]; } rel_state;

static rel_state relative(const download *d)
{
    rel_state s;
    for (int i = 0; i < 2; i++)
        s.free[i] = max64(d->dc_free[i] - d->t, 0);
    return s;
}

static int same_state(rel_state a, rel_state b)
{
    return a.free[0] == b.free[0] && a.free[1] == b.free[1];
}

/* What one loss-free full-block exchange (with the block period after it) did from relative state `in`. */
typedef struct step_record {
    int valid;
    rel_state in, out;
    int64_t cycle, response_at;         /* start-to-next-start, start-to-response */
    int64_t airtime[2], dc_wait;
    uint32_t frames[2];
} step_record;

/* Loss-free steps seen so far in this download, by relative state. A step depends only on the state and
 * the parameters, so replaying a recorded one is exactly what stepping would do; the few states a download
 * returns to after its losses fit a small direct-mapped table. */
#define STEP_CACHE_BITS 4
typedef struct step_cache { step_record slot[1 << STEP_CACHE_BITS]; } step_cache;

static step_record *cache_slot(step_cache *c, rel_state s)
{
    uint64_t h = (uint64_t)s.free[0] * UINT64_C(0x9E3779B97F4A7C15) ^
                 (uint64_t)s.free[1] * UINT64_C(0xC2B2AE3D27D4EB4F);
    return &c->slot[h >> (64 - STEP_CACHE_BITS)];
}

static const step_record *cache_find(step_cache *c, rel_state s)
{
    const step_record *r = cache_slot(c, s);
    return r->valid && same_state(r->in, s) ? r : NULL;
}

/* Draws from the loss processes which attempts of the next exchange fail: fails[h] failed attempts on hop h
 * (max_retries + 1 means the frame was lost and the exchange ends there). Each link's loss process is its
 * own sequence, so drawing a whole exchange ahead consumes exactly what stepping it would. Returns a key
 * for the pattern, or 0 if it is too unusual to be worth caching. */
static uint32_t draw_pattern(download *d, int fails[4])
{
    uint32_t key = 1;
    const int hops = N_HOPS[d->side];
    for (int h = 0; h < hops; h++) {
        int link = HOP_LINK[d->side][h];
        alt_emu_loss *loss = &d->loss[link];
        int max_fails = (int)d->p->link[link].max_retries + 1, n = 0;
        /* most hops get through at the first attempt: skip the loop when the next loss is further on */
        if (loss->next_loss > loss->pos + 1) {
            loss->pos++;
            fails[h] = 0;
            key <<= 5;
            continue;
        }
        while (n < max_fails && alt_emu_loss_attempt(loss))
            n++;
        fails[h] = n;
        key = n < 31 && key ? key << 5 | (uint32_t)n : 0;
        if (n == max_fails)
            break;
    }
    return key;
}

/* What an exchange with a given loss pattern did from a relative state (no outage near). */
typedef struct pattern_record {
    uint32_t key;                       /* 0: empty slot */
    int result;
    rel_state in, out;
    int64_t dt, airtime[2], dc_wait;
    uint32_t frames[2], link_retries[2];
} pattern_record;

#define PATTERN_CACHE_BITS 6
typedef struct pattern_cache { pattern_record slot[1 << PATTERN_CACHE_BITS]; } pattern_cache;

static pattern_record *pattern_slot(pattern_cache *c, uint32_t key, rel_state s)
{
    uint64_t h = ((uint64_t)s.free[0] * UINT64_C(0x9E3779B97F4A7C15)) ^
                 ((uint64_t)s.free[1] * UINT64_C(0xC2B2AE3D27D4EB4F)) ^ ((uint64_t)key * UINT64_C(0xFF51AFD7ED558CCD));
    return &c->slot[h >> (64 - PATTERN_CACHE_BITS)];
}

/* Runs one full-block exchange with a pre-drawn loss pattern, from the cache when this (state, pattern)
 * was seen before. Only used when no outage can cut the exchange. */
static ALWAYS_INLINE int patterned_exchange(download *d, pattern_cache *c, rel_state before)
{
    int fails[4];
    uint32_t key = draw_pattern(d, fails);
    pattern_record *rec = key ? pattern_slot(c, key, before) : NULL;
    if (rec && rec->key == key && same_state(rec->in, before)) {
        d->t += rec->dt;
        for (int i = 0; i < 2; i++) {
            d->airtime[i] += rec->airtime[i];
            d->frames[i] += rec->frames[i];
            d->link_retries[i] += rec->link_retries[i];
            d->dc_free[i] = d->t + rec->out.free[i];
        }
        d->dc_wait += rec->dc_wait;
        return rec->result;
    }
    int64_t t0 = d->t, air0[2] = {d->airtime[0], d->airtime[1]}, wait0 = d->dc_wait;
    uint32_t frames0[2] = {d->frames[0], d->frames[1]}, retries0[2] = {d->link_retries[0], d->link_retries[1]};
    int r = exchange(d, ALT_EMU_BLOCK, ALT_RNG_NEVER, fails, NULL);
    if (rec) {
        rec->key = key;
        rec->result = r;
        rec->in = before;
        rec->out = relative(d);
        rec->dt = d->t - t0;
        rec->dc_wait = d->dc_wait - wait0;
        for (int i = 0; i < 2; i++) {
            rec->airtime[i] = d->airtime[i] - air0[i];
            rec->frames[i] = d->frames[i] - frames0[i];
            rec->link_retries[i] = d->link_retries[i] - retries0[i];
        }
    }
    return r;
}

/* An upper bound on how long after its start a full-block exchange can still put an attempt on air, from
 * a relative state with no pending duty-cycle wait: every attempt of every hop at its slowest. */
static ALWAYS_INLINE int64_t exchange_reach(const alt_emu_params *p, int side)
{
    int64_t reach = p->ch_response_delay;
    for (int h = 0; h < N_HOPS[side]; h++) {
        const alt_emu_link *L = &p->link[HOP_LINK[side][h]];
        const alt_emu_hop_timing *f = &p->frame[ALT_EMU_BLOCK][HOP_LINK[side][h]][h >= N_HOPS[side] / 2];
        int64_t attempt = L->tx_delay + f->dc_span + L->turnaround + L->ack.dc_span + L->ack_timeout;
        reach += ((int64_t)L->max_retries + 1) * attempt;
    }
    return reach;
}

/* Loss-free exchanges the loss processes allow before their next failure. */
static int64_t loss_free_exchanges(const download *d)
{
    /* next_loss > pos always, so the differences are >= 0 and halving is a shift */
    int64_t n = (d->loss[ALT_EMU_HAN].next_loss - 1 - d->loss[ALT_EMU_HAN].pos) >> 1;
    if (d->side == ALT_EMU_METER_SIDE)
        n = min64(n, (d->loss[ALT_EMU_BRIDGE].next_loss - 1 - d->loss[ALT_EMU_BRIDGE].pos) >> 1);
    return n;
}

/* Advances m identical steady-state exchanges at once: exactly what stepping them would do. */
static ALWAYS_INLINE void jump(download *d, const step_record *s, int64_t m)
{
    d->t += m * s->cycle;
    for (int i = 0; i < 2; i++) {
        d->airtime[i] += m * s->airtime[i];
        d->frames[i] += (uint32_t)(m * s->frames[i]);
        d->dc_free[i] = d->t + s->out.free[i];
    }
    d->loss[ALT_EMU_HAN].pos += 2 * m;
    if (d->side == ALT_EMU_METER_SIDE)
        d->loss[ALT_EMU_BRIDGE].pos += 2 * m;
    d->dc_wait += m * s->dc_wait;
    d->exchanges += (uint32_t)m;
}

#endif
