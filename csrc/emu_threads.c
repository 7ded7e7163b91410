/* Shares installations out to pthreads. Each installation writes only its own output rows and draws only
 * from its own streams, so the split (and the thread count) cannot change any result. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "emu.h"
#include "emu_control.h"
#include "rng.h"

alt_emu_control *alt_emu_control_new(void)
{
    alt_emu_control *ctl = malloc(sizeof *ctl);
    if (ctl) {
        atomic_init(&ctl->stop, 0);
        atomic_init(&ctl->done, 0);
    }
    return ctl;
}

void alt_emu_control_free(alt_emu_control *ctl) { free(ctl); }

void alt_emu_control_stop(alt_emu_control *ctl) { atomic_store(&ctl->stop, 1); }

int alt_emu_control_stopped(const alt_emu_control *ctl)
{
    return ctl && atomic_load_explicit(&((alt_emu_control *)ctl)->stop, memory_order_relaxed);
}

alt_emu_control *alt_emu_control_or_local(alt_emu_control *ctl, alt_emu_control *local)
{
    if (ctl)
        return ctl;
    atomic_init(&local->stop, 0);
    atomic_init(&local->done, 0);
    return local;
}

int alt_emu_run_workers(int n_threads, size_t tasks, void *(*worker)(void *), void *arg)
{
    if ((size_t)n_threads > tasks)
        n_threads = tasks ? (int)tasks : 1;
    pthread_t *tids = n_threads > 1 ? malloc(sizeof(pthread_t) * (size_t)(n_threads - 1)) : NULL;
    if (n_threads > 1 && !tids)
        return ALT_ENOMEM;
    int started = 0;
    for (; started < n_threads - 1; started++)
        if (pthread_create(&tids[started], NULL, worker, arg) != 0)
            break;
    worker(arg);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    return ALT_OK;
}

int alt_emu_control_outcome(const alt_emu_control *ctl, uint64_t n)
{
    alt_emu_control *c = (alt_emu_control *)ctl;
    return atomic_load(&c->stop) && atomic_load(&c->done) < n ? ALT_EINTR : ALT_OK;
}

uint64_t alt_emu_control_done(const alt_emu_control *ctl)
{
    return atomic_load(&((alt_emu_control *)ctl)->done);
}

/* Small chunks keep both cores busy to the end; large enough that the shared counter is not contended. */
#define CHUNK 64

typedef struct job {
    const alt_emu_params *p;
    uint64_t first;             /* with keys NULL, unit i is installation first + i */
    const uint64_t *keys;
    const uint8_t *sides;
    size_t n;
    const double *han_per, *bridge_per;
    const alt_emu_outputs *out;
    alt_emu_control *ctl;
    atomic_size_t next;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        size_t lo = atomic_fetch_add(&j->next, CHUNK);
        if (lo >= j->n || atomic_load_explicit(&j->ctl->stop, memory_order_relaxed))
            break;
        size_t hi = lo + CHUNK < j->n ? lo + CHUNK : j->n;
        for (size_t row = lo; row < hi; row++)
            alt_emu_installation(j->p, j->keys ? j->keys[row] : j->first + row, j->sides ? j->sides[row] & 3u : 3u,
                                 row, j->han_per, j->bridge_per, j->out, j->ctl);
        atomic_fetch_add_explicit(&j->ctl->done, hi - lo, memory_order_relaxed);
    }
    return NULL;
}

static int run_job(job *j, int n_threads);

/* Buildings shared out one at a time (a building is never split): each writes only its units' rows. */
typedef struct building_job {
    const alt_emu_params *p;
    const uint64_t *keys, *order, *group_start;
    const uint8_t *sides;
    const uint32_t *han_channel, *bridge_channel;
    const double *han_per, *bridge_per;
    size_t n_groups;
    const alt_emu_outputs *out;
    alt_emu_control *ctl;
    atomic_size_t next;
    atomic_int status;
} building_job;

static void *building_worker(void *arg)
{
    building_job *j = arg;
    for (;;) {
        size_t g = atomic_fetch_add(&j->next, 1);
        if (g >= j->n_groups || atomic_load_explicit(&j->ctl->stop, memory_order_relaxed) ||
            atomic_load_explicit(&j->status, memory_order_relaxed) != ALT_OK)
            break;
        size_t lo = (size_t)j->group_start[g], hi = (size_t)j->group_start[g + 1];
        const alt_emu_params *p = j->p;
        const int64_t *held = p->held_until ? p->held_until + p->held_start[g] : NULL;
        size_t n_held = held ? (size_t)(p->held_start[g + 1] - p->held_start[g]) : 0;
        int rc = alt_emu_building(p, j->keys, j->sides, j->order + lo, hi - lo, j->han_channel,
                                  j->bridge_channel, j->han_per, j->bridge_per, j->out, j->ctl, held, n_held);
        if (rc != ALT_OK)
            atomic_store(&j->status, rc);
        atomic_fetch_add_explicit(&j->ctl->done, hi - lo, memory_order_relaxed);
    }
    return NULL;
}

int alt_emu_run_buildings(const alt_emu_params *p, const uint64_t *keys, const uint8_t *sides, size_t n,
                          const uint64_t *order, const uint64_t *group_start, size_t n_groups,
                          const uint32_t *han_channel, const uint32_t *bridge_channel, const double *han_per,
                          const double *bridge_per, const alt_emu_outputs *out, int n_threads,
                          alt_emu_control *ctl)
{
    if (alt_emu_check_shared(p) != ALT_OK || !out || n_threads < 1 || !group_start)
        return ALT_EINVAL;
    if (n && (!keys || !order || !han_channel || !bridge_channel))
        return ALT_EINVAL;
    /* the groups must cover rows 0 .. n - 1 exactly once, and channels stay small */
    if (group_start[0] != 0 || group_start[n_groups] != n)
        return ALT_EINVAL;
    for (size_t g = 0; g < n_groups; g++)
        if (group_start[g + 1] < group_start[g])
            return ALT_EINVAL;
    /* order must be a permutation: two buildings writing one row would race */
    unsigned char *seen = n ? calloc(n, 1) : NULL;
    if (n && !seen)
        return ALT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (order[i] >= n || seen[order[i]] || han_channel[i] > 65535 || bridge_channel[i] > 65535) {
            free(seen);
            return ALT_EINVAL;
        }
        seen[order[i]] = 1;
    }
    free(seen);
    if (p->unit_start)
        for (size_t i = 0; i < n; i++)
            if (p->unit_start[i] < 0 || p->unit_start[i] > ALT_EMU_MAX_UNIT_START)
                return ALT_EINVAL;
    if (p->held_until) {
        /* held places only count against a cap: held_start must run 0 .. its end, and each building can hold
         * at most its cap (the heap has room for that many) */
        if (!p->held_start || !p->building_cap || p->held_start[0] != 0)
            return ALT_EINVAL;
        for (size_t g = 0; g < n_groups; g++) {
            if (p->held_start[g + 1] < p->held_start[g] ||
                p->held_start[g + 1] - p->held_start[g] > p->building_cap)
                return ALT_EINVAL;
            for (uint64_t h = p->held_start[g]; h < p->held_start[g + 1]; h++)
                if (p->held_until[h] < 0 || p->held_until[h] > ALT_EMU_MAX_UNIT_START)
                    return ALT_EINVAL;
        }
    }
    const alt_emu_trace *trace = out->trace;
    if (trace && n && (!trace->records || !trace->first || !trace->capacity || !trace->count))
        return ALT_EINVAL;
    alt_emu_control local;
    ctl = alt_emu_control_or_local(ctl, &local);
    alt_rng_tables_init();
    /* statistical contention without a table: measured for the largest building (or the cap) of this run */
    alt_emu_params with_table;
    alt_emu_contention table = {0};
    if (p->contention_model == ALT_EMU_STATISTICAL && !p->contention) {
        uint64_t largest = 1;
        for (size_t g = 0; g < n_groups; g++)
            if (group_start[g + 1] - group_start[g] > largest)
                largest = group_start[g + 1] - group_start[g];
        if (p->building_cap && p->building_cap < largest)
            largest = p->building_cap;
        largest *= 2;       /* the calibration's buildings download one side each */
        int rc = alt_emu_contention_calibrate(p, largest < 100000 ? (uint32_t)largest : 100000, n_threads, &table);
        if (rc != ALT_OK)
            return rc;
        with_table = *p;
        with_table.contention = &table;
        p = &with_table;
    }
    building_job j = {p, keys, order, group_start, sides, han_channel, bridge_channel, han_per, bridge_per,
                      n_groups, out, ctl, 0, ALT_OK};
    atomic_init(&j.next, 0);
    atomic_init(&j.status, ALT_OK);
    int status = alt_emu_run_workers(n_threads, n_groups, building_worker, &j);
    if (status == ALT_OK)
        status = atomic_load(&j.status);
    alt_emu_contention_free(&table);
    return status != ALT_OK ? status : alt_emu_control_outcome(ctl, n);
}

int alt_emu_run(const alt_emu_params *p, uint64_t first, size_t n, const double *han_per,
                const double *bridge_per, const alt_emu_outputs *out, int n_threads, alt_emu_control *ctl)
{
    job j = {p, first, NULL, NULL, n, han_per, bridge_per, out, ctl, 0};
    return run_job(&j, n_threads);
}

int alt_emu_run_units(const alt_emu_params *p, const uint64_t *keys, const uint8_t *sides, size_t n,
                      const double *han_per, const double *bridge_per, const alt_emu_outputs *out, int n_threads,
                      alt_emu_control *ctl)
{
    if (n && !keys)
        return ALT_EINVAL;
    job j = {p, 0, keys, sides, n, han_per, bridge_per, out, ctl, 0};
    return run_job(&j, n_threads);
}

static int run_job(job *j, int n_threads)
{
    size_t n = j->n;
    if (alt_emu_check(j->p) != ALT_OK || !j->out || n_threads < 1)
        return ALT_EINVAL;
    const alt_emu_trace *trace = j->out->trace;
    if (trace && n && (!trace->records || !trace->first || !trace->capacity || !trace->count))
        return ALT_EINVAL;
    alt_emu_control local;
    j->ctl = alt_emu_control_or_local(j->ctl, &local);
    alt_rng_tables_init();
    atomic_init(&j->next, 0);
    int status = alt_emu_run_workers(n_threads, (n + CHUNK - 1) / CHUNK, worker, j);
    return status != ALT_OK ? status : alt_emu_control_outcome(j->ctl, n);
}
