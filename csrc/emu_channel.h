/* One shared radio channel and the stations transmitting on it: the contention model of a building (the
 * meter-side bridges of a block of flats on one sub-GHz channel, or its hub-side bridges and CHs on one
 * 2.4 GHz channel). A discrete-event loop over integer-ns times with a binary-heap event queue; all memory is
 * allocated once per run, none per event.
 *
 * Rules:
 *  - Each station holds a FIFO of frames. New frames arrive as a Poisson process (mean_interarrival), or the
 *    station is saturated (a new frame is ready the moment the previous one is done). Every frame occupies
 *    the channel for `airtime`.
 *  - Channel access for the frame at the head of the queue starts at max(ready, duty-cycle release time):
 *      ALOHA:          on air at once.
 *      NONPERSISTENT:  sense at once; idle (nothing on air): on air cca_to_tx later; busy: sense again after
 *                      an exponential deferral of mean `unit` (Kleinrock-Tobagi non-persistent CSMA).
 *      CSMA_802154:    IEEE 802.15.4 unslotted CSMA-CA: NB = 0, BE = min_be; wait a uniform 0 .. 2^BE - 1
 *                      units, assess for `cca`; idle: on air cca_to_tx later; busy: NB++, BE = min(BE + 1,
 *                      max_be), and after max_backoffs + 1 busy assessments the frame is given up.
 *      LBT:            EN 300 220-1 polite spectrum access: listen for `cca`; idle: on air cca_to_tx later;
 *                      busy: defer a uniform 1 .. max_slots units and listen again; after max_deferrals + 1
 *                      busy listens the frame is given up.
 *    An assessment over [s, s + cca] finds the channel busy if any frame is on air at any moment of it.
 *  - Duty cycle per transmitter: a transmission starting at s releases the transmitter at s + dc_span.
 *  - One collision domain: frames that overlap in time are both lost, unless capture is on and one is at
 *    least capture_margin_db stronger than the strongest frame overlapping it (it then survives).
 * Randomness: station i draws only from rng stream (seed, key, i), so a station's draws never depend on the
 * order events of other stations are processed in.
 */
#ifndef ALT_EMU_CHANNEL_H
#define ALT_EMU_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "alt_status.h"

enum alt_emu_access { ALT_EMU_ALOHA = 0, ALT_EMU_NONPERSISTENT = 1, ALT_EMU_CSMA_802154 = 2, ALT_EMU_LBT = 3 };

typedef struct alt_emu_channel_params {
    int access;                  /* enum alt_emu_access */
    int64_t cca;                 /* assessment (listen) time, ns; NONPERSISTENT senses instantaneously */
    int64_t cca_to_tx;           /* idle assessment to on air, ns */
    int64_t unit;                /* backoff unit / deferral slot / mean non-persistent deferral, ns */
    uint32_t min_be, max_be, max_backoffs;   /* CSMA_802154 */
    uint32_t max_slots, max_deferrals;       /* LBT */
    uint32_t n_stations;
    int64_t airtime;             /* ns on air per frame (> 0) */
    int64_t dc_span;             /* >= airtime: release time after a transmission start (airtime: no limit) */
    double mean_interarrival;    /* ns between new frames of a station (Poisson); 0: saturated */
    int64_t duration;            /* ns of channel time emulated */
    double capture_margin_db;    /* NaN or < 0: no capture */
    const double *power_db;      /* received power per station (NULL: all equal) */
    uint64_t seed, key;          /* randomness keyed by (seed, key, station) */
} alt_emu_channel_params;

typedef struct alt_emu_channel_counts {
    uint64_t offered;            /* frames that arrived (saturated: that became ready) */
    uint64_t assessments;        /* channel assessments, idle or busy */
    uint64_t busy_assessments;
    uint64_t sent;               /* transmissions that started */
    uint64_t delivered;          /* transmissions that ended with no overlap (or captured it) */
    uint64_t collided;           /* transmissions that ended lost to an overlap */
    uint64_t access_failures;    /* frames given up by CSMA-CA / LBT */
    int64_t busy_ns;             /* time with at least one frame on air */
    int64_t access_delay_ns;     /* summed over sent frames: from the frame reaching the head of its queue
                                  * (and the transmitter's release) to going on air */
} alt_emu_channel_counts;

/* Checks the parameters; ALT_OK or ALT_EINVAL. */
int alt_emu_channel_check(const alt_emu_channel_params *p);

/* Runs the channel for p->duration ns. station_airtime (n_stations entries, may be NULL) receives each
 * station's ns on air; access_delays (capacity entries, may be NULL) the access delay of each sent frame
 * in the order they went on air (*n_delays = how many were sent, possibly more than capacity).
 * Returns ALT_OK, ALT_EINVAL or ALT_ENOMEM. */
int alt_emu_channel_run(const alt_emu_channel_params *p, alt_emu_channel_counts *out, int64_t *station_airtime,
                        int64_t *access_delays, size_t capacity, size_t *n_delays);

#endif
