/* The stop flag and progress counter behind alt_emu_control (emu.h), shared by the timing engine's threads
 * and the byte-level pass so that one control object drives both. Private to the emulator's C files. */
#ifndef ALT_EMU_CONTROL_H
#define ALT_EMU_CONTROL_H

#include <stdatomic.h>

#include "emu.h"

struct alt_emu_control {
    atomic_int stop;
    atomic_uint_fast64_t done;   /* units (installations) finished */
};

#endif
