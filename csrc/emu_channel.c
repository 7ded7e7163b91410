/* The shared-channel event loop (rules in emu_channel.h). */
#include "emu_channel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* Event kinds, in the order simultaneous events are handled: a frame ending at t no longer overlaps one
 * starting at t, and an assessment ending at t sees both. */
enum { EV_TX_END = 0, EV_TX_START = 1, EV_CCA_END = 2, EV_ARRIVAL = 3 };

typedef struct event {
    int64_t t;
    uint64_t order;              /* kind << 32 | station: a total order, so runs are reproducible */
} event;

typedef struct heap {
    event *e;
    size_t n;
} heap;

static int before(const event *a, const event *b) { return a->t < b->t || (a->t == b->t && a->order < b->order); }

static void heap_push(heap *h, int64_t t, int kind, uint32_t station)
{
    event ev = {t, (uint64_t)kind << 32 | station};
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&ev, &h->e[parent]))
            break;
        h->e[i] = h->e[parent];
        i = parent;
    }
    h->e[i] = ev;
}

static event heap_pop(heap *h)
{
    event top = h->e[0], last = h->e[--h->n];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && before(&h->e[child + 1], &h->e[child]))
            child++;
        if (!before(&h->e[child], &last))
            break;
        h->e[i] = h->e[child];
        i = child;
    }
    if (h->n)
        h->e[i] = last;
    return top;
}

typedef struct station {
    alt_rng rng;
    int64_t dc_free;             /* duty-cycle release time */
    int64_t head_since;          /* the head frame's access began */
    int64_t cca_start;           /* the pending assessment began */
    double interference;         /* strongest frame overlapping the one on air (-inf: none) */
    uint32_t queue;              /* frames waiting, head included */
    uint32_t nb, be;             /* busy assessments of the head frame; 802.15.4 backoff exponent */
    uint32_t active_slot;        /* index in the active list while on air */
    int accessing;               /* the head frame is in access or on air */
} station;

typedef struct channel {
    const alt_emu_channel_params *p;
    station *st;
    heap h;
    uint32_t *active, n_active;  /* stations on air */
    int64_t last_end, busy_start;
    int capture;
    alt_emu_channel_counts *out;
    int64_t *station_airtime, *delays;
    size_t capacity, n_delays;
} channel;

/* An exponential draw in ns, capped at 9e18 - 2e17 so that adding it to a time below the longest duration
 * (1e17 ns) and a span or two (alt_emu_channel_check bounds them) stays below INT64_MAX. */
static int64_t draw_ns(alt_rng *r, double mean)
{
    double x = alt_rng_exponential(r, mean);
    return x >= 8.8e18 ? INT64_C(8800000000000000000) : (int64_t)x;
}

/* uniform integer in [0, m) */
static uint64_t draw_below(alt_rng *r, uint64_t m) { return (uint64_t)(alt_rng_uniform(r) * (double)m) % m; }

static double power(const channel *c, uint32_t s) { return c->p->power_db ? c->p->power_db[s] : 0.0; }

static void schedule_backoff(channel *c, uint32_t s, int64_t t)
{
    station *x = &c->st[s];
    const alt_emu_channel_params *p = c->p;
    x->cca_start = t + (int64_t)draw_below(&x->rng, UINT64_C(1) << x->be) * p->unit;
    heap_push(&c->h, x->cca_start + p->cca, EV_CCA_END, s);
}

static void start_access(channel *c, uint32_t s, int64_t t)
{
    station *x = &c->st[s];
    const alt_emu_channel_params *p = c->p;
    int64_t t0 = t > x->dc_free ? t : x->dc_free;
    x->accessing = 1;
    x->head_since = t0;
    x->nb = 0;
    x->be = p->min_be;
    switch (p->access) {
    case ALT_EMU_ALOHA:
        heap_push(&c->h, t0, EV_TX_START, s);
        break;
    case ALT_EMU_CSMA_802154:
        schedule_backoff(c, s, t0);
        break;
    default:                     /* NONPERSISTENT, LBT: assess at once */
        x->cca_start = t0;
        heap_push(&c->h, t0 + p->cca, EV_CCA_END, s);
    }
}

static void frame_done(channel *c, uint32_t s, int64_t t)
{
    station *x = &c->st[s];
    x->accessing = 0;
    x->queue--;
    if (c->p->mean_interarrival <= 0.0) {       /* saturated: the next frame is ready now */
        x->queue++;
        c->out->offered++;
    }
    if (x->queue)
        start_access(c, s, t);
}

static void cca_end(channel *c, uint32_t s, int64_t t)
{
    station *x = &c->st[s];
    const alt_emu_channel_params *p = c->p;
    c->out->assessments++;
    if (c->n_active == 0 && c->last_end <= x->cca_start) {
        heap_push(&c->h, t + p->cca_to_tx, EV_TX_START, s);
        return;
    }
    c->out->busy_assessments++;
    x->nb++;
    switch (p->access) {
    case ALT_EMU_NONPERSISTENT:
        x->cca_start = t + draw_ns(&x->rng, (double)p->unit);
        heap_push(&c->h, x->cca_start + p->cca, EV_CCA_END, s);
        return;
    case ALT_EMU_CSMA_802154:
        if (x->nb > p->max_backoffs)
            break;
        x->be = x->be + 1 < p->max_be ? x->be + 1 : p->max_be;
        schedule_backoff(c, s, t);
        return;
    default:                     /* LBT */
        if (x->nb > p->max_deferrals)
            break;
        x->cca_start = t + (1 + (int64_t)draw_below(&x->rng, p->max_slots)) * p->unit;
        heap_push(&c->h, x->cca_start + p->cca, EV_CCA_END, s);
        return;
    }
    c->out->access_failures++;
    frame_done(c, s, t);
}

static void tx_start(channel *c, uint32_t s, int64_t t)
{
    station *x = &c->st[s];
    const alt_emu_channel_params *p = c->p;
    c->out->sent++;
    int64_t delay = t - x->head_since;
    c->out->access_delay_ns += delay;
    if (c->delays && c->n_delays < c->capacity)
        c->delays[c->n_delays] = delay;
    c->n_delays++;
    x->dc_free = t + p->dc_span;
    x->interference = -INFINITY;
    double mine = power(c, s);
    for (uint32_t i = 0; i < c->n_active; i++) {
        station *y = &c->st[c->active[i]];
        double theirs = power(c, c->active[i]);
        if (theirs > x->interference)
            x->interference = theirs;
        if (mine > y->interference)
            y->interference = mine;
    }
    if (c->n_active == 0)
        c->busy_start = t;
    x->active_slot = c->n_active;
    c->active[c->n_active++] = s;
    if (c->station_airtime)
        c->station_airtime[s] += p->airtime;
    heap_push(&c->h, t + p->airtime, EV_TX_END, s);
}

static void tx_end(channel *c, uint32_t s, int64_t t)
{
    station *x = &c->st[s];
    uint32_t moved = c->active[--c->n_active];
    c->active[x->active_slot] = moved;
    c->st[moved].active_slot = x->active_slot;
    if (c->n_active == 0)
        c->out->busy_ns += t - c->busy_start;
    c->last_end = t;
    int survived = x->interference == -INFINITY ||
                   (c->capture && power(c, s) >= x->interference + c->p->capture_margin_db);
    if (survived)
        c->out->delivered++;
    else
        c->out->collided++;
    frame_done(c, s, t);
}

int alt_emu_channel_check(const alt_emu_channel_params *p)
{
    if (!p || p->access < ALT_EMU_ALOHA || p->access > ALT_EMU_LBT || p->n_stations == 0 ||
        p->n_stations > (UINT32_C(1) << 30) || p->airtime <= 0 || p->dc_span < p->airtime || p->duration < 0 ||
        p->cca < 0 || p->cca_to_tx < 0 || !(p->mean_interarrival >= 0.0) || isinf(p->mean_interarrival))
        return ALT_EINVAL;
    /* bounds that keep every sum of times below INT64_MAX (see draw_ns): durations up to 1e8 s, spans up to
     * 1000 s (the duty-cycle span up to 1e6 s), deferrals of at most 1e6 slots */
    const int64_t max_span = INT64_C(1000000000000);          /* 1000 s */
    if (p->airtime > max_span || p->cca > max_span || p->cca_to_tx > max_span || p->unit > max_span ||
        p->dc_span > INT64_C(1000) * max_span || p->duration > INT64_C(100000000) * INT64_C(1000000000) ||
        p->max_slots > 1000000)
        return ALT_EINVAL;
    if (p->access != ALT_EMU_ALOHA && p->unit <= 0)
        return ALT_EINVAL;
    if (p->access == ALT_EMU_CSMA_802154 && (p->min_be > p->max_be || p->max_be > 20))
        return ALT_EINVAL;
    if (p->access == ALT_EMU_LBT && p->max_slots == 0)
        return ALT_EINVAL;
    if (p->power_db)
        for (uint32_t i = 0; i < p->n_stations; i++)
            if (!isfinite(p->power_db[i]))
                return ALT_EINVAL;
    return ALT_OK;
}

int alt_emu_channel_run(const alt_emu_channel_params *p, alt_emu_channel_counts *out, int64_t *station_airtime,
                        int64_t *access_delays, size_t capacity, size_t *n_delays)
{
    if (alt_emu_channel_check(p) != ALT_OK || !out || (access_delays && !n_delays))
        return ALT_EINVAL;
    uint32_t n = p->n_stations;
    channel c;
    memset(&c, 0, sizeof c);
    memset(out, 0, sizeof *out);
    c.p = p;
    c.out = out;
    c.capture = p->capture_margin_db >= 0.0;    /* false for NaN */
    c.st = calloc(n, sizeof *c.st);
    c.h.e = malloc(2 * (size_t)n * sizeof *c.h.e);   /* at most one arrival and one other event per station */
    c.active = malloc((size_t)n * sizeof *c.active);
    if (!c.st || !c.h.e || !c.active) {
        free(c.st);
        free(c.h.e);
        free(c.active);
        return ALT_ENOMEM;
    }
    c.station_airtime = station_airtime;
    if (station_airtime)
        memset(station_airtime, 0, n * sizeof *station_airtime);
    c.delays = access_delays;
    c.capacity = access_delays ? capacity : 0;
    c.last_end = INT64_MIN;
    alt_rng_tables_init();
    int saturated = p->mean_interarrival <= 0.0;
    for (uint32_t s = 0; s < n; s++) {
        station *x = &c.st[s];
        alt_rng_init(&x->rng, p->seed, p->key, s);
        if (saturated) {
            /* each station starts at a random phase of its duty cycle, so that stations without listening
             * are not in lockstep from t = 0 */
            x->queue = 1;
            out->offered++;
            start_access(&c, s, (int64_t)draw_below(&x->rng, (uint64_t)p->dc_span));
        } else {
            heap_push(&c.h, draw_ns(&x->rng, p->mean_interarrival), EV_ARRIVAL, s);
        }
    }
    while (c.h.n && c.h.e[0].t < p->duration) {
        event ev = heap_pop(&c.h);
        uint32_t s = (uint32_t)ev.order;
        switch ((int)(ev.order >> 32)) {
        case EV_TX_END:
            tx_end(&c, s, ev.t);
            break;
        case EV_TX_START:
            tx_start(&c, s, ev.t);
            break;
        case EV_CCA_END:
            cca_end(&c, s, ev.t);
            break;
        default: {                                /* EV_ARRIVAL */
            station *x = &c.st[s];
            out->offered++;
            x->queue++;
            heap_push(&c.h, ev.t + draw_ns(&x->rng, p->mean_interarrival), EV_ARRIVAL, s);
            if (!x->accessing)
                start_access(&c, s, ev.t);
        }
        }
    }
    if (c.n_active)
        out->busy_ns += p->duration - c.busy_start;
    if (n_delays)
        *n_delays = c.n_delays;
    free(c.st);
    free(c.h.e);
    free(c.active);
    return ALT_OK;
}
