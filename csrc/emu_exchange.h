/* Internal to the emulator: one download's state and the timing rules of one OTA exchange (csrc/emu.h
 * states them); emu_replay.h adds the exact shortcuts, emu.c the download loop. */
#ifndef ALT_EMU_EXCHANGE_H
#define ALT_EMU_EXCHANGE_H

#include <stdint.h>

#include "emu.h"
#include "emu_link.h"

/* bridge-link transmitters (duty cycle applies there only) */
enum { TX_NONE = -1, TX_HUB = 0, TX_METER = 1 };

typedef struct download {
    const alt_emu_params *p;
    int side;
    int64_t t;
    alt_emu_loss loss[2];
    int64_t dc_free[2];                 /* duty-cycle release time of H's and M's bridge transmitters */
    alt_emu_outages out[6];             /* random and scheduled outages of the CH, H (and M) */
    int n_out;
    /* what the download spent */
    int64_t airtime[2], dc_wait;
    uint32_t frames[2], link_retries[2], exchanges, exchange_retries;
    /* results */
    int outcome;                        /* ALT_EMU_COMPLETED once the Upgrade End exchange succeeded */
    int64_t t_start, t_end, t_service_end;
} download;

/* Where a traced download writes its exchanges (alt_emu_trace in emu.h). */
typedef struct trace_cursor {
    alt_emu_exchange_record *records, last;
    uint64_t capacity, count;
} trace_cursor;

/* For the download loop's helpers: the loop is instantiated twice (emu.c), which would otherwise exhaust the
 * compiler's inlining budget and leave the untraced loop calling them. */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* First time >= t at which the path is up (t itself if it is up). */
static ALWAYS_INLINE int64_t path_up_at(download *d, int64_t t)
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
 * 0 when it was lost (d->t = when the client re-requests; *attempts_end, unless NULL, = when its last attempt
 * ended), -1 when an outage cut it. `fails`: NULL to draw the losses as attempts go, or the failed attempts
 * per hop drawn beforehand (see draw_pattern). */
static int exchange(download *d, int kind, int64_t cut, const int *fails, int64_t *attempts_end)
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
    if (r == 0) {
        if (attempts_end)
            *attempts_end = d->t;
        d->t = max64(d->t, requested + p->response_timeout);
    }
    return r;
}

/* Records the exchange that just ended: exchange(d, ...) from t_request returned r, given `cut`. */
static void trace_exchange(trace_cursor *c, const download *d, int kind, uint32_t offset, int64_t t_request,
                           int64_t attempts_end, int64_t cut, int r)
{
    alt_emu_exchange_record rec = {.t_request = t_request, .t_response = r < 0 ? max64(d->t, cut) : d->t,
                                   .t_attempts_end = r == 0 ? attempts_end : d->t,
                                   .offset = offset, .kind = (uint8_t)kind,
                                   .result = (uint8_t)(r < 0 ? ALT_EMU_CUT : r ? ALT_EMU_DELIVERED : ALT_EMU_LOST)};
    const alt_emu_exchange_record *prev = &c->last;
    if (c->count && prev->result != ALT_EMU_DELIVERED && prev->offset == offset && prev->kind == kind)
        rec.attempt = prev->attempt + 1;
    if (c->count < c->capacity)
        c->records[c->count] = rec;
    c->count++;
    c->last = rec;
}

#endif
