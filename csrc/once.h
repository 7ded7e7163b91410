/* One-time initialisation that any thread may trigger first: the CPU features, each kernel family's tier
 * list, each CRC algorithm's tables. */
#ifndef ALT_ONCE_H
#define ALT_ONCE_H

#include <sched.h>
#include <stdatomic.h>

enum { ALT_ONCE_NOT_RUN = 0, ALT_ONCE_RUNNING = 1, ALT_ONCE_DONE = 2 };

/* Runs fn(arg) exactly once per state word (zero-initialised); callers that come while it runs wait until it
 * has finished, so every caller returns with fn's writes visible. */
static inline void alt_run_once(atomic_int *state, void (*fn)(void *), void *arg)
{
    if (atomic_load_explicit(state, memory_order_acquire) == ALT_ONCE_DONE)
        return;
    int expected = ALT_ONCE_NOT_RUN;
    if (atomic_compare_exchange_strong_explicit(state, &expected, ALT_ONCE_RUNNING, memory_order_acq_rel,
                                                memory_order_acquire)) {
        fn(arg);
        atomic_store_explicit(state, ALT_ONCE_DONE, memory_order_release);
        return;
    }
    while (atomic_load_explicit(state, memory_order_acquire) != ALT_ONCE_DONE)
        sched_yield();
}

#endif
