/* The stop flag and progress counter behind alt_emu_control (emu.h), shared by the timing engine's threads
 * and the byte-level pass so that one control object drives both. Private to the emulator's C files. */
#ifndef ALT_EMU_CONTROL_H
#define ALT_EMU_CONTROL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "emu.h"

struct alt_emu_control {
    atomic_int stop;
    atomic_uint_fast64_t done;   /* units (installations) finished */
};

/* ctl, or *local initialised as a fresh control when the caller gave none. */
alt_emu_control *alt_emu_control_or_local(alt_emu_control *ctl, alt_emu_control *local);

/* Runs worker(arg) on the calling thread and on up to n_threads - 1 more, never more threads than tasks (at
 * least one), and returns when every one has. A thread that cannot be started leaves its share to the others:
 * slower, never different. ALT_OK or ALT_ENOMEM. */
int alt_emu_run_workers(int n_threads, size_t tasks, void *(*worker)(void *), void *arg);

/* ALT_EINTR when the run was stopped before all n units were done, else ALT_OK. */
int alt_emu_control_outcome(const alt_emu_control *ctl, uint64_t n);

#endif
