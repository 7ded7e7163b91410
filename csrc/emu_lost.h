/* Where a timing run lost its exchanges, per device: the log the bytes fidelity reads (emu_bytes.h says why
 * the byte pass learns the positions this way).
 *
 * A device's lost exchanges are kept as runs (slot, count): `count` exchanges that did not deliver (lost, or
 * cut by an outage: every exchange the timing run counts in exchange_retries) while the device held `slot`
 * blocks, i.e. while it was asking for block `slot` (slot == the number of blocks: the Upgrade End exchange).
 * A device's runs have strictly increasing slots and their counts add up to its exchange_retries. Only the
 * exchanges whose repeats the byte pass sends are logged: kinds up to ALT_EMU_UPGRADE_END (emu.h); a kind added
 * later that carries no image data is left out, and if the engine counts its losses as exchange retries the
 * byte pass refuses the log rather than send Image Block Responses for them.
 *
 * The engine appends a device's run when the device moves on to another slot or ends (alt_emu_outputs.lost);
 * the threads share one log under a mutex, which costs nothing measurable: appends happen only at lost
 * exchanges. alt_emu_lost_log_finish then orders the runs by device (a device runs on one thread, so its own
 * runs are already in order): the result depends only on the seed, never on threads. */
#ifndef ALT_EMU_LOST_H
#define ALT_EMU_LOST_H

#include <stddef.h>
#include <stdint.h>

#include "alt_status.h"

typedef struct alt_emu_lost_log alt_emu_lost_log;

/* A log for device rows 0 .. devices - 1; NULL when out of memory. */
alt_emu_lost_log *alt_emu_lost_log_new(uint64_t devices);
void alt_emu_lost_log_free(alt_emu_lost_log *log);

/* Appends device row's run (any thread). A row out of range, or memory running out, marks the log failed
 * (alt_emu_lost_log_finish then says why) instead of stopping the engine mid-exchange. */
void alt_emu_lost_log_append(alt_emu_lost_log *log, uint64_t row, uint32_t slot, uint32_t count);

/* Runs appended so far. */
uint64_t alt_emu_lost_log_runs(const alt_emu_lost_log *log);

/* The runs by device: device row's runs are runs[2 first[row] .. 2 first[row + 1]), as (slot, count) pairs.
 * first has devices + 1 entries, runs 2 * alt_emu_lost_log_runs() (may be NULL when there are none).
 * ALT_OK, ALT_ENOMEM (an append ran out of memory) or ALT_EINVAL (an append named a row out of range). */
int alt_emu_lost_log_finish(const alt_emu_lost_log *log, uint64_t *first, uint32_t *runs);

#endif
