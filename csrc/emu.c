/* The emulator's per-installation event loop (rules in emu.h); threads are in emu_threads.c. */
#include "emu.h"

#include <math.h>
#include <string.h>

#include "emu_link.inc"
#include "emu_exchange.inc"
#include "emu_replay.inc"

static const char *const outcome_names[ALT_EMU_OUTCOMES] = {
    [ALT_EMU_COMPLETED] = "completed",
    [ALT_EMU_ABORTED] = "aborted",
    [ALT_EMU_WAN_FAILED] = "wan_failed",
    [ALT_EMU_ACTIVATION_FAILED] = "activation_failed",
    [ALT_EMU_TIMEOUT] = "timeout",
    [ALT_EMU_NOT_REQUESTED] = "not_requested",
    [ALT_EMU_HASH_FAILURE] = "hash_failure",
};

const char *alt_emu_outcome_name(int outcome)
{
    return outcome >= 0 && outcome < ALT_EMU_OUTCOMES ? outcome_names[outcome] : NULL;
}

/* Streams of one installation (the third component of the RNG counter). */
enum {
    STREAM_LINK_QUALITY = 0,
    STREAM_WAN = 1,
    STREAM_ACTIVATION = 2,
    STREAM_OUTAGE_CH = 3,     /* + entity: CH, H, M */
    STREAM_LOSS = 8           /* + 2 * side + link */
};

/* things that go offline, in stream order */
enum { ENT_CH = 0, ENT_HUB = 1, ENT_METER = 2 };

/* What the download loop keeps between exchanges, so that the per-building engine (emu_building.inc) can
 * pause a download at an exchange boundary and go on with it attempt by attempt. */
typedef struct loop_state {
    uint64_t full, blocks, done;    /* done: blocks received; blocks + 1 once the Upgrade End exchange succeeded */
    uint32_t preamble;              /* exchanges before the blocks done: 0 Image Notify next, 1 Query Next Image
                                     * next, 2 the blocks */
    uint32_t failures, steps;
    int kind;                       /* the kind of the exchange about to start (set by boundary) */
    int64_t cut;                    /* the path is up from d->t until cut */
    int64_t reach;                  /* exchange_reach for full blocks */
    int64_t span;                   /* an exchange of any kind ends its last frame within span of its start */
    step_cache cache;
    pattern_cache patterns;
} loop_state;

enum { RUN_FINISHED = 0, RUN_PAUSED = 1 };

/* An upper bound on how long after its start an exchange of any kind can still have a frame on air (from a
 * state with no pending duty-cycle wait): every attempt of every hop at its slowest. */
static int64_t exchange_span(const alt_emu_params *p, int side)
{
    int64_t span = p->ch_response_delay;
    for (int h = 0; h < N_HOPS[side]; h++) {
        int link = HOP_LINK[side][h];
        const alt_emu_link *L = &p->link[link];
        int64_t longest = 0;
        for (int k = 0; k < ALT_EMU_KINDS; k++)
            longest = max64(longest, p->frame[k][link][h >= N_HOPS[side] / 2].dc_span);
        int64_t attempt = L->tx_delay + longest + L->turnaround + L->ack.dc_span + L->ack_timeout;
        span += ((int64_t)L->max_retries + 1) * attempt;
    }
    return span;
}

static void loop_init(download *d, loop_state *ls, int64_t start)
{
    const alt_emu_params *p = d->p;
    ls->full = p->image_size / p->block_size;
    ls->blocks = ls->full + (p->image_size % p->block_size != 0);
    ls->done = 0;
    ls->preamble = 0;
    ls->failures = 0;
    ls->steps = 1;
    ls->kind = ALT_EMU_BLOCK;
    ls->cut = -1;
    memset(&ls->cache, 0, sizeof ls->cache);
    memset(&ls->patterns, 0, sizeof ls->patterns);
    ls->cache.gen = ls->patterns.gen = 1;
    ls->reach = exchange_reach(p, d->side);
    ls->span = exchange_span(p, d->side);
    d->t = start;
    d->t_start = d->t_end = d->t_service_end = -1;
    d->outcome = ALT_EMU_TIMEOUT;
}

/* The checks at an exchange boundary: deadline, stop, outages (d->t may move to when the path is up again).
 * Returns 1 when the download ended there (its outcome stays ALT_EMU_TIMEOUT). Running it twice at the same
 * d->t changes nothing. */
ALT_ALWAYS_INLINE int boundary(download *d, loop_state *ls, const alt_emu_control *ctl)
{
    const alt_emu_params *p = d->p;
    if (d->t > p->deadline || ((ls->steps & 4095) == 0 && alt_emu_control_stopped(ctl)))
        return 1;
    if (d->t >= ls->cut) {
        d->t = path_up_at(d, d->t);
        if (d->t > p->deadline)
            return 1;
        ls->cut = path_next_down(d, d->t);
    }
    if (d->t_start < 0)
        d->t_start = d->t;
    if (ls->preamble < 2)
        ls->kind = ls->preamble == 0 ? ALT_EMU_IMAGE_NOTIFY : ALT_EMU_QUERY_NEXT_IMAGE;
    else
        ls->kind = ls->done < ls->full ? ALT_EMU_BLOCK : ls->done < ls->blocks ? ALT_EMU_LAST_BLOCK
                                                                              : ALT_EMU_UPGRADE_END;
    return 0;
}

/* Bytes fidelity: the exchange the device made while holding `slot` blocks did not deliver (emu_lost.h). */
static void lost_note(download *d, uint64_t slot)
{
    if (d->lost_count && slot != d->lost_slot) {
        alt_emu_lost_log_append(d->lost_log, d->lost_row, d->lost_slot, d->lost_count);
        d->lost_count = 0;
    }
    d->lost_slot = (uint32_t)slot;
    d->lost_count++;
}

/* An exchange that did not deliver (r 0: lost, -1: cut): the download aborts after max_consecutive_failures
 * lost in a row; a cut one resumes when the path is up. Returns 1 when the download ended. */
ALT_ALWAYS_INLINE int undelivered_exchange(download *d, loop_state *ls, int r)
{
    if (r == 0 && ++ls->failures >= d->p->max_consecutive_failures) {
        d->outcome = ALT_EMU_ABORTED;
        d->t_service_end = d->t;
        return 1;
    }
    if (r < 0)
        d->t = max64(d->t, ls->cut);
    return 0;
}

/* after_exchange for the exchanges that carry no data: the notify, the query, a WAIT_FOR_DATA answer. They are
 * not counted in exchanges / exchange_retries (emu.h, "The command set"). Kept out of line: the block loop
 * never calls it. */
static ALT_NOINLINE int after_control_exchange(download *d, loop_state *ls, int r)
{
    const alt_emu_params *p = d->p;
    const int waited = d->waited;
    d->waited = 0;
    if (r == 1) {
        ls->failures = 0;
        if (waited)             /* come back later: the delay the CH asked for, at least its block period */
            d->t += max64(p->wait_for_data_delay, p->min_block_period);
        else                    /* the notify or the QNI response arrived: the next step follows at once */
            ls->preamble++;
        return 0;
    }
    return undelivered_exchange(d, ls, r);
}

/* The bookkeeping after an exchange of kind ls->kind returned r (1 delivered, 0 lost, -1 cut). Returns 1 when
 * the download ended (completed or aborted). */
ALT_ALWAYS_INLINE int after_exchange(download *d, loop_state *ls, int r)
{
    const alt_emu_params *p = d->p;
    if (ls->kind > ALT_EMU_UPGRADE_END || d->waited)
        return after_control_exchange(d, ls, r);
    d->exchanges++;
    if (r == 1) {
        ls->done++;
        ls->failures = 0;
        if (ls->done == ls->blocks)
            d->t_end = d->t;
        if (ls->done > ls->blocks) {
            d->t_service_end = d->t;
            d->outcome = ALT_EMU_COMPLETED;
            return 1;
        }
        d->t += p->min_block_period;
        return 0;
    }
    d->exchange_retries++;
    if (d->lost_log)          /* a data exchange: the byte pass sends its repeat (emu_lost.h) */
        lost_note(d, ls->done);
    return undelivered_exchange(d, ls, r);
}

/* How many loss-free exchanges, each the recorded step `rec`, the download loop may replay now (0: none):
 * all of the loss_free ones the loss processes allow if the step leaves its state unchanged, else one; each
 * replayed exchange must start by the deadline and get its response before the path goes down (and,
 * pausing, before the horizon). */
ALT_ALWAYS_INLINE int64_t replayable(const download *d, const loop_state *ls, const step_record *rec,
                                     int64_t loss_free, int64_t horizon)
{
    const alt_emu_params *p = d->p;
    int64_t m = same_state(rec->in, rec->out) ? loss_free : 1;
    m = min64(m, (int64_t)(ls->blocks - 1 - ls->done));
    /* divide only when a bound actually bites (rarely) */
    int64_t last_start = d->t + (m - 1) * rec->cycle;
    if (m > 0 && last_start > p->deadline)
        m = min64(m, (p->deadline - d->t) / rec->cycle + 1);
    if (m > 0 && last_start + rec->response_at > ls->cut) {
        int64_t room = ls->cut - d->t - rec->response_at;
        m = min64(m, room < 0 ? 0 : room / rec->cycle + 1);
    }
    if (m > 0 && last_start + rec->response_at > horizon) {
        int64_t room = horizon - d->t - rec->response_at;
        m = min64(m, room < 0 ? 0 : room / rec->cycle + 1);
    }
    return m;
}

enum { STEADY_OTHER = 0, STEADY_FINISHED = 1 };

/* The download loop's two common iterations, back to back: a replayed run of loss-free full-block
 * exchanges and a patterned exchange (the one with the next loss), with `side` a constant so that the hops
 * and their links are known at compile time. Called at an exchange boundary (boundary() applied) with
 * shortcuts allowed and a full block next; every iteration is exactly the download loop's, boundary()
 * included. At the first iteration that is neither it returns STEADY_OTHER (boundary() applied, nothing of
 * that iteration done) and the download loop carries on with it; STEADY_FINISHED: the download ended. */
ALT_ALWAYS_INLINE int steady_blocks_side(download *d, loop_state *ls, int64_t horizon, const alt_emu_control *ctl,
                                         const int side)
{
    /* the loss cursors live in registers here; nothing this loop calls reads d->loss[].pos or next_loss
     * (exchange() with a drawn pattern does not touch the loss processes) but the draws, which get pos */
    loss_cursor cursors[2];
    for (int l = 0; l < 2; l++)
        cursors[l] = (loss_cursor){d->loss[l].pos, d->loss[l].next_loss};
    int status = STEADY_OTHER;
    do {
        if (d->t < d->ready_at)       /* the CH may still answer WAIT_FOR_DATA: no shortcuts */
            break;
        rel_state before = relative(d);
        int64_t busy = max64(before.free[0], before.free[1]);
        if (horizon < ALT_RNG_NEVER && d->t + ls->span + busy >= horizon)
            break;
        int64_t loss_free = loss_free_side(cursors, side);
        if (loss_free >= 1) {
            const step_record *rec = cache_find(&ls->cache, before);
            int64_t m = rec ? replayable(d, ls, rec, loss_free, horizon) : 0;
            if (m <= 0)
                break;
            jump_side(d, cursors, rec, m, side);
            ls->done += (uint64_t)m;
            ls->failures = 0;
        } else {
            if (ls->cut - d->t <= ls->reach + busy)
                break;
            int r = patterned_exchange_side(d, cursors, &ls->patterns, before, side);
            if (after_exchange(d, ls, r)) {
                status = STEADY_FINISHED;
                break;
            }
        }
        ls->steps++;
        if (boundary(d, ls, ctl)) {
            status = STEADY_FINISHED;
            break;
        }
    } while (ls->kind == ALT_EMU_BLOCK);
    for (int l = 0; l < 2; l++) {
        d->loss[l].pos = cursors[l].pos;
        d->loss[l].next_loss = cursors[l].next;
    }
    return status;
}

/* The download loop, instantiated twice (below) so that the untraced one, with trace a constant NULL, carries
 * no tracing code at all. A traced download is stepped exchange by exchange: the shortcuts give exactly what
 * stepping gives, so its results are the untraced ones. It runs until the download ends (RUN_FINISHED) or,
 * when horizon < ALT_RNG_NEVER, until the next exchange might still have a frame on air at horizon
 * (RUN_PAUSED, at an exchange boundary, with boundary() already applied at d->t): every frame it sent
 * ended by horizon. */
ALT_ALWAYS_INLINE int download_loop(download *d, loop_state *ls, int64_t horizon, const alt_emu_control *ctl,
                                    trace_cursor *trace)
{
    const alt_emu_params *p = d->p;
    const int may_shortcut = !p->step_every_exchange && !trace;
    for (;; ls->steps++) {
        if (boundary(d, ls, ctl))
            return RUN_FINISHED;
        if (may_shortcut && ls->kind == ALT_EMU_BLOCK) {
            int steady = d->side == ALT_EMU_METER_SIDE
                             ? steady_blocks_side(d, ls, horizon, ctl, ALT_EMU_METER_SIDE)
                             : steady_blocks_side(d, ls, horizon, ctl, ALT_EMU_HUB_SIDE);
            if (steady == STEADY_FINISHED)
                return RUN_FINISHED;
        }
        const int64_t cut = ls->cut;
        int kind = ls->kind;
        rel_state before = relative(d);
        if (horizon < ALT_RNG_NEVER && d->t + ls->span + max64(before.free[0], before.free[1]) >= horizon)
            return RUN_PAUSED;
        int shortcuts = kind == ALT_EMU_BLOCK && may_shortcut && d->t >= d->ready_at;   /* no WAIT_FOR_DATA */
        int loss_free = shortcuts && loss_free_exchanges(d) >= 1;
        const step_record *rec = loss_free ? cache_find(&ls->cache, before) : NULL;
        if (rec) {
            /* a loss-free exchange from this state was seen before: replay it; if it left the state
             * unchanged, every following loss-free exchange repeats it, so replay as many as allowed */
            int64_t m = replayable(d, ls, rec, loss_free_exchanges(d), horizon);
            if (m > 0) {
                jump(d, rec, m);
                ls->done += (uint64_t)m;
                ls->failures = 0;
                continue;
            }
        }
        int64_t t0 = d->t, air0[2] = {d->airtime[0], d->airtime[1]}, wait0 = d->dc_wait;
        uint32_t frames0[2] = {d->frames[0], d->frames[1]};
        int r;
        if (shortcuts && !loss_free &&
            cut - d->t > ls->reach + max64(before.free[0], before.free[1]))
            r = patterned_exchange(d, &ls->patterns, before);
        else if (!trace)
            r = command_exchange(d, kind, cut, NULL);
        else {
            int64_t attempts_end = -1;
            r = command_exchange(d, kind, cut, &attempts_end);
            trace_exchange(trace, d, kind, kind == ALT_EMU_UPGRADE_END ? (uint32_t)p->image_size
                                                                       : (uint32_t)(ls->done * p->block_size),
                           t0, attempts_end, cut, r);
        }
        int64_t response_at = d->t - t0;
        if (after_exchange(d, ls, r))
            return RUN_FINISHED;
        if (r == 1 && loss_free) {
            step_record *s = cache_slot(&ls->cache, before);
            s->valid = ls->cache.gen;
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
    }
}

static int run_download_until(download *d, loop_state *ls, int64_t horizon, const alt_emu_control *ctl)
{
    return download_loop(d, ls, horizon, ctl, NULL);
}

static int run_traced_download_until(download *d, loop_state *ls, int64_t horizon, const alt_emu_control *ctl,
                                     trace_cursor *trace)
{
    return download_loop(d, ls, horizon, ctl, trace);
}

/* The lone engine's loop: no horizon, so the compiler drops the pausing checks. */
static void run_download(download *d, loop_state *ls, const alt_emu_control *ctl)
{
    download_loop(d, ls, ALT_RNG_NEVER, ctl, NULL);
}

/* Runs a download to its end, traced if it has a cursor. */
static void start_download(download *d, int64_t start, const alt_emu_control *ctl, trace_cursor *trace)
{
    loop_state ls;
    loop_init(d, &ls, start);
    if (trace)
        run_traced_download_until(d, &ls, ALT_RNG_NEVER, ctl, trace);
    else
        run_download(d, &ls, ctl);
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
    for (int entity = ENT_CH; entity <= (side == ALT_EMU_METER_SIDE ? ENT_METER : ENT_HUB); entity++) {
        init_outages(&d->out[d->n_out++], p, inst, entity);
        if (p->n_scheduled[entity]) {
            alt_emu_outages *o = &d->out[d->n_out++];
            memset(o, 0, sizeof *o);
            o->table = p->scheduled[entity];
            o->n_table = p->n_scheduled[entity];
            alt_emu_outages_step(o);
        }
    }
}

static double link_per(const alt_emu_link *L, alt_rng *r)
{
    if (L->per_concentration <= 0.0 || L->per <= 0.0)
        return L->per;
    double b = alt_rng_beta(r, L->per_concentration * L->per, L->per_concentration * (1.0 - L->per));
    return b < 0.999999 ? b : 0.999999;   /* keep a link able to deliver at all */
}

static double seconds(int64_t ns) { return ns < 0 ? NAN : (double)ns * 1e-9; }

/* One installation's draws, downloads and traces between its setup and the writing of its rows. */
typedef struct inst_ctx {
    alt_rng activation;
    int wan_failed;
    int64_t image_at;
    unsigned sides;
    size_t row;
    double per[2];
    download dl[2];
    trace_cursor cursor[2];
    trace_cursor *traced[2];
} inst_ctx;

static void inst_prepare(inst_ctx *c, const alt_emu_params *p, uint64_t inst, unsigned sides, size_t row,
                         const double *han_per, const double *bridge_per, const alt_emu_outputs *out)
{
    alt_rng quality, wan;
    alt_rng_init(&quality, p->seed, inst, STREAM_LINK_QUALITY);
    alt_rng_init(&wan, p->seed, inst, STREAM_WAN);
    alt_rng_init(&c->activation, p->seed, inst, STREAM_ACTIVATION);
    c->sides = sides;
    c->row = row;
    /* both PERs are always drawn, so a given array never shifts the other link's draws */
    double *per = c->per;
    per[ALT_EMU_HAN] = link_per(&p->link[ALT_EMU_HAN], &quality);
    per[ALT_EMU_BRIDGE] = link_per(&p->link[ALT_EMU_BRIDGE], &quality);
    if (han_per)
        per[ALT_EMU_HAN] = han_per[row];
    if (bridge_per)
        per[ALT_EMU_BRIDGE] = bridge_per[row];
    out->han_per[row] = per[ALT_EMU_HAN];
    out->bridge_per[row] = per[ALT_EMU_BRIDGE];

    c->wan_failed = alt_rng_bernoulli(&wan, p->wan_failure_prob);
    double delay_s = p->wan_delay_median_s * exp(p->wan_delay_sigma * alt_rng_normal(&wan));
    c->image_at = alt_emu_ns(delay_s * 1e9);

    const alt_emu_trace *trace = out->trace;
    for (int side = 0; side < 2; side++) {
        init_download(&c->dl[side], p, inst, side, per);
        c->dl[side].ready_at = p->ch_ready_delay > 0 ? c->image_at + p->ch_ready_delay : -1;
        size_t i = 2 * row + (size_t)side;
        c->dl[side].lost_log = out->lost;
        c->dl[side].lost_row = i;
        c->traced[side] = NULL;
        if (trace && trace->capacity[i]) {
            memset(&c->cursor[side], 0, sizeof c->cursor[side]);
            c->cursor[side].records = trace->records + trace->first[i];
            c->cursor[side].capacity = trace->capacity[i];
            c->traced[side] = &c->cursor[side];
        }
    }
}

/* The side whose download goes first in a sequential pair, or -1 when the requested sides start together. */
static int first_side(const alt_emu_params *p, unsigned sides)
{
    if (p->order == ALT_EMU_CONCURRENT || sides != 3)
        return -1;
    return p->order == ALT_EMU_METER_FIRST ? ALT_EMU_METER_SIDE : ALT_EMU_HUB_SIDE;
}

static void inst_write(inst_ctx *c, const alt_emu_params *p, const alt_emu_outputs *out)
{
    const alt_emu_trace *trace = out->trace;
    for (int side = 0; side < 2; side++) {
        download *d = &c->dl[side];
        size_t i = 2 * c->row + (size_t)side;
        int activation_fails = alt_rng_bernoulli(&c->activation, p->activation_failure_prob);
        int64_t t_act = -1, t_read = -1;
        int requested = (c->sides >> side) & 1;
        int outcome = !requested ? ALT_EMU_NOT_REQUESTED : c->wan_failed ? ALT_EMU_WAN_FAILED : d->outcome;
        if (outcome == ALT_EMU_COMPLETED) {
            t_act = p->activation_time < 0 ? d->t_service_end : max64(d->t_service_end, p->activation_time);
            t_read = t_act + p->readback_delay;
            if (activation_fails)
                outcome = ALT_EMU_ACTIVATION_FAILED;
        }
        out->outcome[i] = (uint8_t)outcome;
        out->new_version[i] = outcome == ALT_EMU_COMPLETED;
        int reached = requested && !c->wan_failed;
        out->t_image[i] = reached ? seconds(c->image_at) : NAN;
        out->t_download_start[i] = reached ? seconds(d->t_start) : NAN;
        out->t_download_end[i] = reached ? seconds(d->t_end) : NAN;
        if (out->t_end) {
            int64_t end = outcome == ALT_EMU_COMPLETED || outcome == ALT_EMU_ACTIVATION_FAILED ? t_read
                        : outcome == ALT_EMU_ABORTED ? d->t_service_end
                        : outcome == ALT_EMU_WAN_FAILED ? c->image_at
                        : outcome == ALT_EMU_TIMEOUT ? p->deadline : -1;
            out->t_end[i] = seconds(end);
        }
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
        if (trace)
            trace->count[i] = c->traced[side] ? c->traced[side]->count : 0;
        if (d->lost_log && d->lost_count)
            alt_emu_lost_log_append(d->lost_log, i, d->lost_slot, d->lost_count);
    }
}

void alt_emu_installation(const alt_emu_params *p, uint64_t inst, unsigned sides, size_t row,
                          const double *han_per, const double *bridge_per, const alt_emu_outputs *out,
                          const alt_emu_control *ctl)
{
    alt_rng_tables_init();
    inst_ctx c;
    inst_prepare(&c, p, inst, sides, row, han_per, bridge_per, out);
    if (!c.wan_failed) {
        int first = first_side(p, sides);
        if (first < 0) {
            for (int side = 0; side < 2; side++)
                if (sides & (1u << side))
                    start_download(&c.dl[side], c.image_at, ctl, c.traced[side]);
        } else {
            start_download(&c.dl[first], c.image_at, ctl, c.traced[first]);
            /* the CH takes the second client once it is done with the first (or gave up on it) */
            int64_t next = c.dl[first].t_service_end >= 0 ? c.dl[first].t_service_end : ALT_RNG_NEVER;
            start_download(&c.dl[1 - first], next, ctl, c.traced[1 - first]);
        }
    }
    inst_write(&c, p, out);
}

#include "emu_building.inc"
#include "emu_calibrate.inc"

int alt_emu_check(const alt_emu_params *p)
{
    if (!p || p->block_size == 0 || p->image_size == 0 || p->max_consecutive_failures == 0)
        return ALT_EINVAL;
    if (p->min_block_period < 0 || p->ch_response_delay < 0 || p->response_timeout < 0 || p->deadline < 0 ||
        p->ch_ready_delay < 0 || p->wait_for_data_delay < 0 ||
        p->readback_delay < 0 || p->order < ALT_EMU_METER_FIRST || p->order > ALT_EMU_CONCURRENT)
        return ALT_EINVAL;
    if (!(p->wan_failure_prob >= 0.0 && p->wan_failure_prob <= 1.0) ||
        !(p->activation_failure_prob >= 0.0 && p->activation_failure_prob <= 1.0) ||
        !(p->wan_delay_median_s >= 0.0) || !(p->wan_delay_sigma >= 0.0))
        return ALT_EINVAL;
    for (int l = 0; l < 2; l++) {
        const alt_emu_link *L = &p->link[l];
        if (L->tx_delay < 0 || L->dc_access < 0 || L->turnaround < 0 || L->ack_timeout < 0 || L->ack.airtime < 0 ||
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
    for (int e = 0; e < 3; e++) {
        const int64_t *w = p->scheduled[e];
        if (p->n_scheduled[e] && !w)
            return ALT_EINVAL;
        for (size_t i = 0; i < p->n_scheduled[e]; i++) {
            if (w[2 * i] < 0 || w[2 * i + 1] <= w[2 * i] || (i > 0 && w[2 * i] < w[2 * i - 1]))
                return ALT_EINVAL;
        }
    }
    return ALT_OK;
}

int alt_emu_check_shared(const alt_emu_params *p)
{
    if (alt_emu_check(p) != ALT_OK || !(p->rssi_sigma_db >= 0.0) || isinf(p->rssi_sigma_db) ||
        isinf(p->capture_margin_db))
        return ALT_EINVAL;
    if (p->contention_model != ALT_EMU_STEPPED && p->contention_model != ALT_EMU_STATISTICAL)
        return ALT_EINVAL;
    if (p->contention_model == ALT_EMU_STATISTICAL) {
        const alt_emu_contention *T = p->contention;
        if (p->statistical_step <= 0 || (T && (T->n_levels == 0 || !T->first[0] || !T->first[1] ||
                                               !T->repeat[0] || !T->repeat[1] || !T->delay[0] || !T->delay[1])))
            return ALT_EINVAL;
    }
    for (int l = 0; l < 2; l++) {
        const alt_emu_shared_access *A = &p->shared[l];
        if (A->access < ALT_EMU_ALOHA || A->access > ALT_EMU_LBT || A->access == ALT_EMU_NONPERSISTENT ||
            A->cca < 0 || A->cca_to_tx < 0 || A->unit < 0)
            return ALT_EINVAL;
        if (A->access == ALT_EMU_CSMA_802154 && (A->unit <= 0 || A->min_be > A->max_be || A->max_be > 20))
            return ALT_EINVAL;
        if (A->access == ALT_EMU_LBT && (A->unit <= 0 || A->max_slots == 0 || A->max_slots > 1000000))
            return ALT_EINVAL;
    }
    return ALT_OK;
}
