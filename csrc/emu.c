/* The emulator's per-installation event loop (rules in emu.h); threads are in emu_threads.c. */
#include "emu.h"

#include <math.h>
#include <string.h>

#include "emu_link.h"

/* Streams of one installation (the third component of the RNG counter). */
enum {
    STREAM_LINK_QUALITY = 0,
    STREAM_WAN = 1,
    STREAM_ACTIVATION = 2,
    STREAM_OUTAGE_CH = 3,     /* + entity: CH, H, M */
    STREAM_LOSS = 8           /* + 2 * side + link */
};

enum { ENT_CH = 0, ENT_HUB = 1, ENT_METER = 2 };
/* bridge-link transmitters (duty cycle applies there only) */
enum { TX_NONE = -1, TX_HUB = 0, TX_METER = 1 };

typedef struct download {
    const alt_emu_params *p;
    int side;
    int64_t t;
    alt_emu_loss loss[2];
    int64_t dc_free[2];                 /* duty-cycle release time of H's and M's bridge transmitters */
    alt_emu_outages out[4];             /* CH random, CH scheduled, H random, M random */
    int n_out;
    /* what the download spent */
    int64_t airtime[2], dc_wait;
    uint32_t frames[2], link_retries[2], exchanges, exchange_retries;
    /* results */
    int outcome;                        /* ALT_EMU_COMPLETED once the Upgrade End exchange succeeded */
    int64_t t_start, t_end, t_service_end;
} download;

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* First time >= t at which the path is up (t itself if it is up). */
static int64_t path_up_at(download *d, int64_t t)
{
    for (int moved = 1; moved;) {
        moved = 0;
        for (int i = 0; i < d->n_out; i++) {
            alt_emu_outages_advance(&d->out[i], t);
            if (d->out[i].down_start <= t && t < d->out[i].down_end) {
                t = d->out[i].down_end;
                moved = 1;
            }
        }
    }
    return t;
}

/* First time >= t at which the path goes down (the path is up at t). */
static int64_t path_next_down(download *d, int64_t t)
{
    int64_t first = ALT_RNG_NEVER;
    for (int i = 0; i < d->n_out; i++) {
        alt_emu_outages_advance(&d->out[i], t);
        first = min64(first, max64(d->out[i].down_start, t));
    }
    return first;
}

/* Sends one frame in link-layer attempts from d->t. Returns 1 when acknowledged (d->t = end of the ack),
 * 0 when every attempt failed (d->t = end of the last ack timeout), -1 when the next attempt would go on air
 * at or after `cut` (the path is down). Attempts fail as the link's loss process says, or, when `fails` >= 0,
 * the first `fails` attempts fail (a pattern drawn beforehand from the same loss process). */
static int send_frame(download *d, int link, const alt_emu_hop_timing *h, int tx, int64_t cut, int fails)
{
    const alt_emu_link *L = &d->p->link[link];
    for (uint32_t attempt = 0;; attempt++) {
        int64_t ready = d->t + L->tx_delay;
        int64_t on_air = tx == TX_NONE ? ready : max64(ready, d->dc_free[tx]);
        if (on_air >= cut)
            return -1;
        d->dc_wait += on_air - ready;
        if (tx != TX_NONE)
            d->dc_free[tx] = on_air + h->dc_span;
        d->airtime[link] += h->airtime;
        d->frames[link]++;
        int lost = fails < 0 ? alt_emu_loss_attempt(&d->loss[link]) : (int)attempt < fails;
        if (!lost) {
            int64_t ack_on_air = on_air + h->airtime + L->turnaround;
            if (tx != TX_NONE)
                d->dc_free[1 - tx] = max64(d->dc_free[1 - tx], ack_on_air) + L->ack.dc_span;
            d->airtime[link] += L->ack.airtime;
            d->frames[link]++;
            d->t = ack_on_air + L->ack.airtime;
            return 1;
        }
        d->t = on_air + h->airtime + L->ack_timeout;
        if (attempt == L->max_retries)
            return 0;
        d->link_retries[link]++;
    }
}

/* The hops of an exchange in order: M's request crosses the bridge link first, its response last. */
static const int HOP_LINK[2][4] = {{ALT_EMU_HAN, ALT_EMU_HAN, -1, -1},
                                   {ALT_EMU_BRIDGE, ALT_EMU_HAN, ALT_EMU_HAN, ALT_EMU_BRIDGE}};
static const int N_HOPS[2] = {2, 4};

/* One request/response exchange from d->t. Returns 1 when the response arrived (d->t = its arrival),
 * 0 when it was lost (d->t = when the client re-requests), -1 when an outage cut it. `fails`: NULL to draw
 * the losses as attempts go, or the failed attempts per hop drawn beforehand (see draw_pattern). */
static int exchange(download *d, int kind, int64_t cut, const int *fails)
{
    const alt_emu_params *p = d->p;
    const alt_emu_hop_timing (*f)[2] = p->frame[kind];
    int64_t requested = d->t;
    int r = 1, hop = 0;
#define FAILS (fails ? fails[hop++] : -1)
    if (d->side == ALT_EMU_METER_SIDE)
        r = send_frame(d, ALT_EMU_BRIDGE, &f[ALT_EMU_BRIDGE][0], TX_METER, cut, FAILS);
    if (r == 1)
        r = send_frame(d, ALT_EMU_HAN, &f[ALT_EMU_HAN][0], TX_NONE, cut, FAILS);
    if (r == 1) {
        d->t += p->ch_response_delay;
        r = send_frame(d, ALT_EMU_HAN, &f[ALT_EMU_HAN][1], TX_NONE, cut, FAILS);
    }
    if (r == 1 && d->side == ALT_EMU_METER_SIDE)
        r = send_frame(d, ALT_EMU_BRIDGE, &f[ALT_EMU_BRIDGE][1], TX_HUB, cut, FAILS);
#undef FAILS
    if (r == 0)
        d->t = max64(d->t, requested + p->response_timeout);
    return r;
}

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
    for (int h = 0; h < N_HOPS[d->side]; h++) {
        int link = HOP_LINK[d->side][h];
        int max_fails = (int)d->p->link[link].max_retries + 1, n = 0;
        while (n < max_fails && alt_emu_loss_attempt(&d->loss[link]))
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
static int patterned_exchange(download *d, pattern_cache *c, rel_state before)
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
    int r = exchange(d, ALT_EMU_BLOCK, ALT_RNG_NEVER, fails);
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
static int64_t exchange_reach(const alt_emu_params *p, int side)
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
static void jump(download *d, const step_record *s, int64_t m)
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

static void run_download(download *d, int64_t start)
{
    const alt_emu_params *p = d->p;
    uint64_t full = p->image_size / p->block_size;
    uint64_t blocks = full + (p->image_size % p->block_size != 0);
    uint64_t done = 0;          /* blocks received; blocks + 1 once the Upgrade End exchange succeeded */
    uint32_t failures = 0;
    step_cache cache;
    memset(&cache, 0, sizeof cache);
    pattern_cache patterns;
    memset(&patterns, 0, sizeof patterns);
    const int64_t reach = exchange_reach(p, d->side);
    d->t = start;
    d->t_start = d->t_end = d->t_service_end = -1;
    d->outcome = ALT_EMU_TIMEOUT;
    int64_t cut = -1;           /* the path is up from d->t until cut */
    while (done <= blocks) {
        if (d->t > p->deadline)
            return;
        if (d->t >= cut) {
            d->t = path_up_at(d, d->t);
            if (d->t > p->deadline)
                return;
            cut = path_next_down(d, d->t);
        }
        if (d->t_start < 0)
            d->t_start = d->t;
        int kind = done < full ? ALT_EMU_BLOCK : done < blocks ? ALT_EMU_LAST_BLOCK : ALT_EMU_UPGRADE_END;
        int shortcuts = kind == ALT_EMU_BLOCK && !p->step_every_exchange;
        int loss_free = shortcuts && loss_free_exchanges(d) >= 1;
        rel_state before = relative(d);
        const step_record *rec = loss_free ? cache_find(&cache, before) : NULL;
        if (rec) {
            /* a loss-free exchange from this state was seen before: replay it; if it left the state
             * unchanged, every following loss-free exchange repeats it, so replay as many as allowed */
            int64_t m = same_state(rec->in, rec->out) ? loss_free_exchanges(d) : 1;
            m = min64(m, (int64_t)(blocks - 1 - done));
            /* each replayed exchange must start by the deadline and get its response before the path goes
             * down; divide only when the bound actually bites (rarely) */
            int64_t last_start = d->t + (m - 1) * rec->cycle;
            if (m > 0 && last_start > p->deadline)
                m = min64(m, (p->deadline - d->t) / rec->cycle + 1);
            if (m > 0 && last_start + rec->response_at > cut) {
                int64_t room = cut - d->t - rec->response_at;
                m = min64(m, room < 0 ? 0 : room / rec->cycle + 1);
            }
            if (m > 0) {
                jump(d, rec, m);
                done += (uint64_t)m;
                failures = 0;
                continue;
            }
        }
        int64_t t0 = d->t, air0[2] = {d->airtime[0], d->airtime[1]}, wait0 = d->dc_wait;
        uint32_t frames0[2] = {d->frames[0], d->frames[1]};
        int r;
        if (shortcuts && !loss_free &&
            cut - d->t > reach + max64(before.free[0], before.free[1]))
            r = patterned_exchange(d, &patterns, before);
        else
            r = exchange(d, kind, cut, NULL);
        d->exchanges++;
        if (r == 1) {
            done++;
            failures = 0;
            if (done == blocks)
                d->t_end = d->t;
            if (done > blocks) {
                d->t_service_end = d->t;
                d->outcome = ALT_EMU_COMPLETED;
                return;
            }
            int64_t response_at = d->t - t0;
            d->t += p->min_block_period;
            if (loss_free) {
                step_record *s = cache_slot(&cache, before);
                s->valid = 1;
                s->in = before;
                s->out = relative(d);
                s->cycle = d->t - t0;
                s->response_at = response_at;
                s->dc_wait = d->dc_wait - wait0;
                for (int i = 0; i < 2; i++) {
                    s->airtime[i] = d->airtime[i] - air0[i];
                    s->frames[i] = d->frames[i] - frames0[i];
                }
            }
        } else {
            d->exchange_retries++;
            if (r == 0 && ++failures >= p->max_consecutive_failures) {
                d->outcome = ALT_EMU_ABORTED;
                d->t_service_end = d->t;
                return;
            }
            if (r < 0)
                d->t = max64(d->t, cut);
        }
    }
}

static void init_outages(alt_emu_outages *o, const alt_emu_params *p, uint64_t inst, int entity)
{
    memset(o, 0, sizeof *o);
    alt_rng_init(&o->rng, p->seed, inst, STREAM_OUTAGE_CH + (uint64_t)entity);
    o->mean_up_ns = p->mean_up_s[entity] * 1e9;
    o->mean_down_ns = p->mean_down_s[entity] * 1e9;
    o->down_end = 0;
    alt_emu_outages_step(o);
}

static void init_download(download *d, const alt_emu_params *p, uint64_t inst, int side, const double per[2])
{
    memset(d, 0, sizeof *d);
    d->p = p;
    d->side = side;
    for (int l = 0; l < 2; l++) {
        const alt_emu_link *L = &p->link[l];
        alt_emu_loss_init(&d->loss[l], p->seed, inst, STREAM_LOSS + 2 * (uint64_t)side + (uint64_t)l, per[l],
                          L->per_bad, L->mean_good_len, L->mean_bad_len);
    }
    init_outages(&d->out[d->n_out++], p, inst, ENT_CH);
    if (p->n_scheduled) {
        alt_emu_outages *o = &d->out[d->n_out++];
        memset(o, 0, sizeof *o);
        o->table = p->scheduled;
        o->n_table = p->n_scheduled;
        alt_emu_outages_step(o);
    }
    init_outages(&d->out[d->n_out++], p, inst, ENT_HUB);
    if (side == ALT_EMU_METER_SIDE)
        init_outages(&d->out[d->n_out++], p, inst, ENT_METER);
}

static double link_per(const alt_emu_link *L, alt_rng *r)
{
    if (L->per_concentration <= 0.0 || L->per <= 0.0)
        return L->per;
    double b = alt_rng_beta(r, L->per_concentration * L->per, L->per_concentration * (1.0 - L->per));
    return b < 0.999999 ? b : 0.999999;   /* keep a link able to deliver at all */
}

static double seconds(int64_t ns) { return ns < 0 ? NAN : (double)ns * 1e-9; }

void alt_emu_installation(const alt_emu_params *p, uint64_t inst, size_t row, const double *han_per,
                          const double *bridge_per, const alt_emu_outputs *out)
{
    alt_rng_tables_init();
    alt_rng quality, wan, activation;
    alt_rng_init(&quality, p->seed, inst, STREAM_LINK_QUALITY);
    alt_rng_init(&wan, p->seed, inst, STREAM_WAN);
    alt_rng_init(&activation, p->seed, inst, STREAM_ACTIVATION);
    /* both PERs are always drawn, so a given array never shifts the other link's draws */
    double per[2];
    per[ALT_EMU_HAN] = link_per(&p->link[ALT_EMU_HAN], &quality);
    per[ALT_EMU_BRIDGE] = link_per(&p->link[ALT_EMU_BRIDGE], &quality);
    if (han_per)
        per[ALT_EMU_HAN] = han_per[row];
    if (bridge_per)
        per[ALT_EMU_BRIDGE] = bridge_per[row];
    out->han_per[row] = per[ALT_EMU_HAN];
    out->bridge_per[row] = per[ALT_EMU_BRIDGE];

    int wan_failed = alt_rng_bernoulli(&wan, p->wan_failure_prob);
    double delay_s = p->wan_delay_median_s * exp(p->wan_delay_sigma * alt_rng_normal(&wan));
    int64_t image_at = alt_emu_ns(delay_s * 1e9);

    download dl[2];
    for (int side = 0; side < 2; side++)
        init_download(&dl[side], p, inst, side, per);
    if (!wan_failed) {
        if (p->order == ALT_EMU_CONCURRENT) {
            run_download(&dl[0], image_at);
            run_download(&dl[1], image_at);
        } else {
            int first = p->order == ALT_EMU_METER_FIRST ? ALT_EMU_METER_SIDE : ALT_EMU_HUB_SIDE;
            run_download(&dl[first], image_at);
            /* the CH takes the second client once it is done with the first (or gave up on it) */
            int64_t next = dl[first].t_service_end >= 0 ? dl[first].t_service_end : ALT_RNG_NEVER;
            run_download(&dl[1 - first], next);
        }
    }
    for (int side = 0; side < 2; side++) {
        download *d = &dl[side];
        size_t i = 2 * row + (size_t)side;
        int activation_fails = alt_rng_bernoulli(&activation, p->activation_failure_prob);
        int64_t t_act = -1, t_read = -1;
        int outcome = wan_failed ? ALT_EMU_WAN_FAILED : d->outcome;
        if (outcome == ALT_EMU_COMPLETED) {
            t_act = p->activation_time < 0 ? d->t_service_end : max64(d->t_service_end, p->activation_time);
            t_read = t_act + p->readback_delay;
            if (activation_fails)
                outcome = ALT_EMU_ACTIVATION_FAILED;
        }
        out->outcome[i] = (uint8_t)outcome;
        out->new_version[i] = outcome == ALT_EMU_COMPLETED;
        out->t_image[i] = wan_failed ? NAN : seconds(image_at);
        out->t_download_start[i] = wan_failed ? NAN : seconds(d->t_start);
        out->t_download_end[i] = wan_failed ? NAN : seconds(d->t_end);
        out->t_activation[i] = seconds(t_act);
        out->t_readback[i] = seconds(t_read);
        out->exchanges[i] = d->exchanges;
        out->exchange_retries[i] = d->exchange_retries;
        out->link_retries_han[i] = d->link_retries[ALT_EMU_HAN];
        out->link_retries_bridge[i] = d->link_retries[ALT_EMU_BRIDGE];
        out->frames_han[i] = d->frames[ALT_EMU_HAN];
        out->frames_bridge[i] = d->frames[ALT_EMU_BRIDGE];
        out->airtime_han[i] = (double)d->airtime[ALT_EMU_HAN] * 1e-9;
        out->airtime_bridge[i] = (double)d->airtime[ALT_EMU_BRIDGE] * 1e-9;
        out->dc_wait[i] = (double)d->dc_wait * 1e-9;
    }
}

int alt_emu_check(const alt_emu_params *p)
{
    if (!p || p->block_size == 0 || p->image_size == 0 || p->max_consecutive_failures == 0)
        return ALT_EINVAL;
    if (p->min_block_period < 0 || p->ch_response_delay < 0 || p->response_timeout < 0 || p->deadline < 0 ||
        p->readback_delay < 0 || p->order < ALT_EMU_METER_FIRST || p->order > ALT_EMU_CONCURRENT)
        return ALT_EINVAL;
    if (!(p->wan_failure_prob >= 0.0 && p->wan_failure_prob <= 1.0) ||
        !(p->activation_failure_prob >= 0.0 && p->activation_failure_prob <= 1.0) ||
        !(p->wan_delay_median_s >= 0.0) || !(p->wan_delay_sigma >= 0.0))
        return ALT_EINVAL;
    for (int l = 0; l < 2; l++) {
        const alt_emu_link *L = &p->link[l];
        if (L->tx_delay < 0 || L->turnaround < 0 || L->ack_timeout < 0 || L->ack.airtime < 0 ||
            L->ack.dc_span < L->ack.airtime || !(L->per >= 0.0 && L->per < 1.0) ||
            !(L->per_concentration >= 0.0) || !(L->mean_bad_len >= 0.0))
            return ALT_EINVAL;
        if (L->mean_bad_len > 0.0 && (!(L->mean_bad_len >= 1.0) || !(L->mean_good_len >= 1.0) ||
                                      !(L->per_bad >= 0.0 && L->per_bad < 1.0)))
            return ALT_EINVAL;
        for (int k = 0; k < ALT_EMU_KINDS; k++)
            for (int dir = 0; dir < 2; dir++) {
                const alt_emu_hop_timing *h = &p->frame[k][l][dir];
                if (h->airtime <= 0 || h->dc_span < h->airtime)
                    return ALT_EINVAL;
            }
    }
    for (int e = 0; e < 3; e++)
        if (!(p->mean_down_s[e] >= 0.0) || (p->mean_down_s[e] > 0.0 && !(p->mean_up_s[e] > 0.0)))
            return ALT_EINVAL;
    for (size_t i = 0; i < p->n_scheduled; i++) {
        if (p->scheduled[2 * i] < 0 || p->scheduled[2 * i + 1] <= p->scheduled[2 * i])
            return ALT_EINVAL;
        if (i > 0 && p->scheduled[2 * i] < p->scheduled[2 * i - 1])
            return ALT_EINVAL;
    }
    return ALT_OK;
}
