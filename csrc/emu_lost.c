/* The per-device log of lost exchanges (emu_lost.h). */
#include "emu_lost.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t row;
    uint32_t slot, count;
} entry;

/* Entries live in fixed segments, so that growing never moves (or copies) what is already there. */
#define SEGMENT_ENTRIES ((size_t)1 << 16)

struct alt_emu_lost_log {
    pthread_mutex_t lock;
    uint64_t devices, size;
    entry **segments;
    size_t n_segments, cap_segments;
    int status;                         /* ALT_OK, or why an append failed */
};

alt_emu_lost_log *alt_emu_lost_log_new(uint64_t devices)
{
    alt_emu_lost_log *log = calloc(1, sizeof *log);
    if (!log)
        return NULL;
    if (pthread_mutex_init(&log->lock, NULL) != 0) {
        free(log);
        return NULL;
    }
    log->devices = devices;
    return log;
}

void alt_emu_lost_log_free(alt_emu_lost_log *log)
{
    if (!log)
        return;
    for (size_t i = 0; i < log->n_segments; i++)
        free(log->segments[i]);
    free(log->segments);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

void alt_emu_lost_log_append(alt_emu_lost_log *log, uint64_t row, uint32_t slot, uint32_t count)
{
    pthread_mutex_lock(&log->lock);
    if (log->status != ALT_OK)
        goto done;
    if (row >= log->devices) {
        log->status = ALT_EINVAL;
        goto done;
    }
    size_t seg = (size_t)(log->size / SEGMENT_ENTRIES), at = (size_t)(log->size % SEGMENT_ENTRIES);
    if (seg == log->n_segments) {
        if (log->n_segments == log->cap_segments) {
            size_t cap = log->cap_segments ? 2 * log->cap_segments : 16;
            entry **grown = realloc(log->segments, cap * sizeof *grown);
            if (!grown) {
                log->status = ALT_ENOMEM;
                goto done;
            }
            log->segments = grown;
            log->cap_segments = cap;
        }
        log->segments[seg] = malloc(SEGMENT_ENTRIES * sizeof(entry));
        if (!log->segments[seg]) {
            log->status = ALT_ENOMEM;
            goto done;
        }
        log->n_segments++;
    }
    log->segments[seg][at] = (entry){.row = row, .slot = slot, .count = count};
    log->size++;
done:
    pthread_mutex_unlock(&log->lock);
}

uint64_t alt_emu_lost_log_runs(const alt_emu_lost_log *log)
{
    return log->size;
}

int alt_emu_lost_log_finish(const alt_emu_lost_log *log, uint64_t *first, uint32_t *runs)
{
    if (log->status != ALT_OK)
        return log->status;
    if (!first || (log->size && !runs))
        return ALT_EINVAL;
    /* a counting sort by row, stable: each device's runs keep the order its thread appended them in */
    memset(first, 0, (size_t)(log->devices + 1) * sizeof *first);
    for (uint64_t i = 0; i < log->size; i++)
        first[log->segments[i / SEGMENT_ENTRIES][i % SEGMENT_ENTRIES].row + 1]++;
    for (uint64_t r = 0; r < log->devices; r++)
        first[r + 1] += first[r];
    /* first[row] now starts row's runs; use it as row's cursor, which leaves it at the start of row + 1 */
    for (uint64_t i = 0; i < log->size; i++) {
        const entry *e = &log->segments[i / SEGMENT_ENTRIES][i % SEGMENT_ENTRIES];
        uint64_t at = first[e->row]++;
        runs[2 * at] = e->slot;
        runs[2 * at + 1] = e->count;
    }
    for (uint64_t r = log->devices; r > 0; r--)
        first[r] = first[r - 1];
    first[0] = 0;
    return ALT_OK;
}
