/* Block-level radio-link emulator for whole Alt HAN fleets ("timing" fidelity).
 *
 * Each installation is a Communications Hub (CH), a hub-side bridge (H) and a meter-side bridge (M). Both
 * bridges pull the image from the CH with ZigBee OTA Image Block Request/Response exchanges; M's exchanges
 * cross the bridge link (M <-> H) as well as the HAN (H <-> CH). Without shared air installations are
 * independent, so each runs
 * its own tiny event loop, and installations are split across threads writing disjoint output slots (with
 * shared air, buildings are: see "Shared air" below).
 * Randomness comes from rng.h keyed by (seed, installation, stream), so results never depend on threads.
 *
 * Time is integer nanoseconds throughout: closed-form jumps over loss-free runs are then exactly equal to
 * stepping, and results are bit-identical across machines. The frame model (bytes -> airtime) lives in
 * Python (althan_ota.emulate.frames); this engine receives the per-frame timings in alt_emu_hop_timing, which
 * is where a per-exchange byte path ("bytes" fidelity) would plug in.
 *
 * The timing rules (mirrored by the SimPy reference model in tests/emulate_reference.py):
 *  - A frame is sent in link-layer attempts (at most max_retries + 1). An attempt is ready at t; it goes on
 *    air at s = max(t + tx_delay, free[tx]) where free[] is the transmitter's duty-cycle release time. It
 *    fails with the link's loss process (Bernoulli per attempt, or Gilbert-Elliott advanced per attempt); a
 *    success ends at s + airtime + turnaround + ack airtime, a failure at s + airtime + ack_timeout.
 *  - Duty cycle, per transmitter, as a per-transmission off-time (the classic rule of LoRaWAN stacks for
 *    ETSI EN 300 220 sub-bands, off-time = airtime x (1/dc - 1); stricter than a rolling-hour budget):
 *    after a transmission of airtime a starting at s, free = max(free, s) + ceil(a / dc).
 *    Data frames wait for free; acknowledgements go at once and push free further. Hence in every interval
 *    from a transmission start to the release time the transmitter is on air at most a fraction dc.
 *  - A block exchange: request hops then response hops, a fixed CH response delay in between. If a frame
 *    exhausts its attempts the exchange fails; the client re-requests the same offset at
 *    max(failure time, request time + response_timeout), and aborts after max_consecutive_failures
 *    consecutive failed exchanges. After a success it waits min_block_period before the next request.
 *  - Outages (CH, H, M; random exponential up/down and scheduled windows): with the path down the client
 *    waits for it to come back and resumes from its file offset. An exchange is cut if any of its attempts
 *    would start at or after the first moment the path goes down after the exchange began; attempts already
 *    started complete normally. A cut exchange counts as an exchange retry, not as a consecutive failure.
 *  - A download that has not finished by the deadline ends as ALT_EMU_TIMEOUT.
 *
 * The command set (ZigBee OTA Upgrade cluster, ZCL 11.13) of one download, each step an "exchange" above:
 *  1. Image Notify: the CH's unsolicited frame to the client (hub side: one HAN hop; meter side: the HAN hop,
 *     then the hub-side bridge relays it over the bridge link). Acknowledged by the MAC only; if a hop exhausts
 *     its attempts the CH notifies again response_timeout after the first try (and gives up after
 *     max_consecutive_failures notifications in a row: ALT_EMU_ABORTED).
 *  2. Query Next Image request/response, as soon as the notify arrived: an exchange like a block's (lost: the
 *     client re-queries after its response timeout; the consecutive-failure rule applies).
 *  3. Image Block Request/Response exchanges, the first as soon as the QNI response arrived. A request that
 *     reaches the CH before image_at + ch_ready_delay (the CH still verifying and storing the image) is
 *     answered WAIT_FOR_DATA (frames of kind ALT_EMU_WAIT_FOR_DATA); the client re-requests the same offset
 *     max(wait_for_data_delay, min_block_period) after that response arrives. A delivered WAIT_FOR_DATA
 *     response resets the consecutive failures, a lost one is a failed exchange.
 *  4. Upgrade End request/response.
 * Only steps 3 (data) and 4 count in exchanges / exchange_retries (the byte pass sends one Image Block
 * Response per counted exchange); every frame of every step counts in frames, airtime and duty cycle, and the
 * trace records every step.
 *
 * Shared air (alt_emu_run_buildings; EmulationParams.contention): installations are grouped by building, and
 * within a building each has a HAN channel (its CH and hub-side bridge) and a bridge channel (its two bridges).
 * One event loop per building runs its downloads in time order (ties: the earlier unit of the group's canonical
 * order, which callers sort by installation key). On top of the rules above:
 *  - A download is active from its start to its end (completion, abort after its last response timeout, or
 *    the boundary at which the deadline is found passed); waiting for an outage or a block period counts.
 *  - An attempt is "contended" when, at the moment it is ready, another installation of the building has an
 *    active download using that channel (HAN: both sides; bridge: the meter side). An uncontended attempt
 *    follows the rule above (on air tx_delay later, the mean CSMA delay). A contended one uses the link's access
 *    procedure instead of tx_delay, from max(ready, duty-cycle release): HAN, IEEE 802.15.4 unslotted
 *    CSMA-CA (NB = 0, BE = min_be; wait a uniform 0 .. 2^BE - 1 units, assess for cca; idle: on air cca_to_tx
 *    later; busy: NB++, BE = min(BE + 1, max_be), given up after max_backoffs + 1 busy assessments); bridge,
 *    EN 300 220 listen-before-talk (listen for cca; idle: on air cca_to_tx later; busy: defer a uniform
 *    1 .. max_slots slots and listen again, given up after max_deferrals + 1 busy listens), or no listening at
 *    all (ALT_EMU_ALOHA: tx_delay as alone). An assessment over [c, c + cca) is busy if a frame of another
 *    installation on the channel is on air at some moment of it. A frame given up this way is a failed attempt
 *    that never went on air (no loss draw, no airtime); the next attempt is ready at once.
 *  - Every frame on air (data and acknowledgement, either direction, the CH's too) occupies its channel for its
 *    airtime. A data frame or acknowledgement is lost if it overlaps a frame of another installation on the
 *    channel, unless capture is on (capture_margin_db >= 0) and its power is at least capture_margin_db above
 *    the strongest frame overlapping it. Powers are per installation and link (both directions alike):
 *    rssi_sigma_db x a standard normal, around a building-wide mean.
 *  - An attempt fails if the loss process says so (drawn for every attempt on air, as alone) or its data frame
 *    collided (no acknowledgement: the attempt ends ack_timeout after the data frame); a collided
 *    acknowledgement fails it at max(its end, data end + ack_timeout). Only a delivered data frame is
 *    acknowledged.
 *  - Randomness: the lone streams are unchanged; access draws come from stream 16 + side of the installation,
 *    powers from stream 20. A building of one installation, or one whose downloads never overlap, gives
 *    exactly the lone results. Results depend on the seed and the grouping only: never on threads or on the
 *    order of the input.
 *  - Building cap (building_cap > 0): an installation takes one of its building's building_cap places when
 *    its first download would start (the image reached its CH), or waits for one, first come first served
 *    (ties: canonical order); it keeps the place until every download it makes has ended, and a waiting
 *    installation starts its downloads the moment a place frees. With a cap of 1 every download of the
 *    building runs alone: the lone results, moved later.
 *  - Places held from before (held_until, held_start): places of a building that earlier runs' installations
 *    still hold (a campaign's earlier waves and attempts). Each is taken from the start of the building's
 *    common clock until its time, counts against building_cap like any other, and then frees for the first
 *    installation waiting. Without them a run could put building_cap installations of its own beside those.
 *  - Unit start times (unit_start): each installation lives on its own clock, 0 at its request, as alone (its
 *    image delay, outages, scheduled windows and deadline are on that clock, and its results are written on
 *    it); the building's common clock is the unit's own plus its start. Only what the units share is on the
 *    common clock: frames on air, assessments, the order of events and the building's places. A unit that
 *    never overlaps another thus gets exactly its lone results (on its own clock).
 *  - Speed: a download alone in its building (no other installation active) runs the closed-form loop up to
 *    the next start of another installation's download, pausing at the last exchange boundary from which every
 *    frame of the next exchange surely ends before it; everything else is stepped one event per access,
 *    frame and acknowledgement. Both give the same results.
 *
 * Statistical contention (contention_model ALT_EMU_STATISTICAL): the same buildings, places and unit clocks, but
 * no frame is put on a channel. Stepping every frame of overlapping downloads costs about 58,000 events per
 * installation, so a national fleet with shared air would take hours; instead each attempt sees its channel
 * through the stepped model's own averages at its contention level k (the other installations' downloads
 * active on the channel, as "contended" above counts them):
 *  - a table per link and level (alt_emu_contention_calibrate) gives the probability that a contended attempt
 *    fails for contention (channel access failure, its data frame or its acknowledgement collided), after an
 *    attempt that did not (first[k]) and after a run of n that did (repeat[k][n]: downloads that collided retry
 *    in step and collide again, the longer the run the likelier), and the mean delay[k] from ready (and
 *    duty-cycle release) to on air. It is measured, not
 *    assumed: the stepped engine runs synthetic buildings of every size up to the largest (or the cap) with
 *    these very parameters and counts what its contended attempts met, level by level;
 *  - a download at level k >= 1 then runs the closed-form loop with delay[k] in place of tx_delay (on air at
 *    max(ready, duty-cycle release) + delay[k]) and a second loss process on each link, the chain of first[k]
 *    and repeat[k][n] over the current run length n, on its own stream (24 + 2 x side + link), beside the
 *    link's own; at level 0 it is exactly the lone download;
 *  - a download's level is read when it resumes: downloads advance in time order, each by about
 *    statistical_step at a time, so another download's start or end reaches it at most that much late.
 * What this drops, by design: correlation beyond the current run and between downloads, the spread of the
 * access delay (its mean is used), and airtime of attempts that never got on air (a
 * contention failure counts as a lost attempt on air). tests/test_emulate_statistical.py measures how far
 * its completion times, retries and aborts are from the stepped engine's for buildings of 10 and 100.
 *
 * Simplifications (deliberate, for block-level timing): the PER is per attempt (the frame or its ack lost;
 * an ack's airtime counts only when the attempt succeeds); the two bridges' downloads of one installation have
 * independent loss processes and, when concurrent, do not contend with each other for the HAN channel or the
 * hub-side bridge's radio (only other installations' frames collide or make a channel busy); without shared
 * air installations never contend, and with it one channel is one collision domain (no hidden stations, no
 * half-duplex receivers, a frame's power does not depend on who hears it); an uncontended attempt's CSMA backoff
 * is its mean (tx_delay), not a random draw; the CH serves the second bridge of a sequential pair once the
 * first's Upgrade End exchange is done (or it gave up); the version read-back always succeeds.
 */
#ifndef ALT_EMU_H
#define ALT_EMU_H

#include <stddef.h>
#include <stdint.h>

#include "alt_status.h"
#include "emu_channel.h"
#include "emu_lost.h"

/* How a device's download ended. The numbers are stored in results and campaign stores: append, never
 * renumber; give each a name in alt_emu_outcome_name (emu.c), which the Python layer takes its list from. */
enum alt_emu_outcome {
    ALT_EMU_COMPLETED = 0,          /* new version running and read back */
    ALT_EMU_ABORTED = 1,            /* too many consecutive failed exchanges */
    ALT_EMU_WAN_FAILED = 2,         /* the image never reached the CH */
    ALT_EMU_ACTIVATION_FAILED = 3,  /* downloaded, but activation left the old version running */
    ALT_EMU_TIMEOUT = 4,            /* not finished by the deadline (unreachable, or too slow) */
    ALT_EMU_NOT_REQUESTED = 5,      /* this side was not asked to download (see alt_emu_run_units' sides) */
    ALT_EMU_HASH_FAILURE = 6,       /* bytes fidelity only: the reassembled image's SHA-256 did not match, so the
                                     * device did not activate (the caller sets it from the byte pass's hash_ok) */
    ALT_EMU_OUTCOMES = 7
};

/* "completed", "aborted", ... as the Python API names them; NULL for an outcome out of range. */
const char *alt_emu_outcome_name(int outcome);

enum alt_emu_side { ALT_EMU_HUB_SIDE = 0, ALT_EMU_METER_SIDE = 1 };
enum alt_emu_link_id { ALT_EMU_HAN = 0, ALT_EMU_BRIDGE = 1 };
enum alt_emu_order { ALT_EMU_METER_FIRST = 0, ALT_EMU_HUB_FIRST = 1, ALT_EMU_CONCURRENT = 2 };
/* The frame kinds of the OTA exchanges; each has a request and a response size. Kinds are stored in traces:
 * append, never renumber. IMAGE_NOTIFY is one frame from the CH (its "response" timings; the request timings
 * are unused); WAIT_FOR_DATA is an Image Block Request answered by an Image Block Response with status
 * WAIT_FOR_DATA (its kind is decided at the CH, see "The command set"). */
enum alt_emu_kind {
    ALT_EMU_BLOCK = 0, ALT_EMU_LAST_BLOCK = 1, ALT_EMU_UPGRADE_END = 2, ALT_EMU_IMAGE_NOTIFY = 3,
    ALT_EMU_QUERY_NEXT_IMAGE = 4, ALT_EMU_WAIT_FOR_DATA = 5, ALT_EMU_KINDS = 6
};

/* Timing of one frame on one link, precomputed from its bytes (all nanoseconds). */
typedef struct alt_emu_hop_timing {
    int64_t airtime;         /* data frame on air */
    int64_t dc_span;         /* ceil(airtime / duty cycle): how far the transmitter's release time moves */
} alt_emu_hop_timing;

/* Loss process of one link, per attempt. Without bursts (mean_bad_len == 0) attempts fail independently
 * with the installation's PER. With Gilbert-Elliott bursts the channel alternates between a good state
 * (loss = the installation's PER, mean sojourn mean_good_len attempts) and a bad one (loss = per_bad). */
typedef struct alt_emu_link {
    int64_t tx_delay;        /* from "ready" to on air (CSMA backoff / radio start-up), ns */
    int64_t turnaround;      /* end of data frame to start of its acknowledgement, ns */
    int64_t ack_timeout;     /* end of data frame to giving the attempt up, ns */
    alt_emu_hop_timing ack;
    int64_t dc_access;       /* added to the duty-cycle release time (statistical contention's access delay;
                              * 0 otherwise: callers leave it 0) */
    uint32_t max_retries;    /* link-layer retransmissions after the first attempt */
    double per;              /* default PER (good state) when no per-installation array is given */
    double per_concentration;/* > 0: per-installation PER ~ Beta(c*per, c*(1-per)); 0: everyone gets per */
    double per_bad;          /* loss probability in the bad state */
    double mean_good_len;    /* mean good-state sojourn (attempts); used only with bursts */
    double mean_bad_len;     /* mean bad-state sojourn (attempts); 0 disables bursts */
} alt_emu_link;

/* Channel access of one link on shared air (per-building engine). access is enum alt_emu_access of
 * emu_channel.h: ALT_EMU_ALOHA (no listening: on air tx_delay after ready, as alone), ALT_EMU_CSMA_802154 or
 * ALT_EMU_LBT (the same procedures as emu_channel.h; a channel access failure is a failed attempt). */
typedef struct alt_emu_shared_access {
    int access;
    int64_t cca;                         /* assessment (listen) time, ns */
    int64_t cca_to_tx;                   /* idle assessment to on air, ns */
    int64_t unit;                        /* backoff unit (CSMA-CA) or deferral slot (LBT), ns */
    uint32_t min_be, max_be, max_backoffs;   /* CSMA_802154 */
    uint32_t max_slots, max_deferrals;       /* LBT */
} alt_emu_shared_access;

typedef struct alt_emu_params {
    alt_emu_link link[2];                              /* ALT_EMU_HAN, ALT_EMU_BRIDGE */
    /* frame timings per kind: [kind][link][0 = request, 1 = response] */
    alt_emu_hop_timing frame[ALT_EMU_KINDS][2][2];
    uint64_t image_size;                 /* bytes */
    uint32_t block_size;                 /* data bytes per Image Block Response */
    int64_t min_block_period;            /* ns between a response and the next request */
    int64_t ch_response_delay;           /* ns between a request reaching the CH and its response */
    int64_t response_timeout;            /* ns from a request to re-requesting after a loss */
    int64_t ch_ready_delay;              /* ns from the image reaching the CH until the CH serves its blocks
                                          * (before then: WAIT_FOR_DATA); 0: at once, no WAIT_FOR_DATA */
    int64_t wait_for_data_delay;         /* ns the CH asks a client to wait in a WAIT_FOR_DATA response */
    uint32_t max_consecutive_failures;   /* abort after this many failed exchanges in a row (>= 1) */
    int order;                           /* enum alt_emu_order */
    double wan_failure_prob;
    double wan_delay_median_s;           /* log-normal delay of the image reaching the CH */
    double wan_delay_sigma;
    double activation_failure_prob;
    int64_t activation_time;             /* ns; < 0: activate as soon as the Upgrade End exchange completes */
    int64_t readback_delay;              /* ns from activation to the version read-back */
    int64_t deadline;                    /* ns; downloads unfinished by then end as ALT_EMU_TIMEOUT */
    double mean_up_s[3], mean_down_s[3]; /* random outages of CH, H, M (mean_down 0: none) */
    const int64_t *scheduled[3];         /* scheduled windows of CH, H, M: [start, end) ns pairs, sorted */
    size_t n_scheduled[3];
    uint64_t seed;
    int step_every_exchange;             /* 1: no closed-form jumps or replays, and with shared air every download
                                          * stepped attempt by attempt (tests compare both bit for bit) */
    /* shared air (alt_emu_run_buildings only): channel access per link when another installation of the
     * building is downloading on the channel, and capture */
    alt_emu_shared_access shared[2];     /* ALT_EMU_HAN, ALT_EMU_BRIDGE */
    double capture_margin_db;            /* < 0 or NaN: no capture */
    double rssi_sigma_db;                /* spread of the per-installation received power (capture only) */
    uint32_t building_cap;               /* at most this many installations of a building downloading at once
                                          * (0: no cap); see "Shared air" */
    const int64_t *unit_start;           /* alt_emu_run_buildings only, per unit row: when the unit was requested
                                          * (ns, 0 .. ALT_EMU_MAX_UNIT_START) on the building's common clock; NULL:
                                          * all at 0. See "Shared air" */
    const int64_t *held_until;           /* alt_emu_run_buildings only, with building_cap: places held from
                                          * before, each until this time of the common clock (ns, 0 ..
                                          * ALT_EMU_MAX_UNIT_START); group g's are held_until[held_start[g] ..
                                          * held_start[g + 1]). NULL: none. See "Shared air" */
    const uint64_t *held_start;          /* n_groups + 1 offsets into held_until (with it) */
    int contention_model;                /* enum alt_emu_contention_model (alt_emu_run_buildings only) */
    int64_t statistical_step;            /* ALT_EMU_STATISTICAL: how far a download runs before it reads its
                                          * contention level again (ns, > 0) */
    const struct alt_emu_contention *contention;   /* ALT_EMU_STATISTICAL: the table to use; NULL: calibrated
                                          * by alt_emu_run_buildings for the run's largest building */
} alt_emu_params;

enum alt_emu_contention_model { ALT_EMU_STEPPED = 0, ALT_EMU_STATISTICAL = 1 };

/* Run lengths of contention failures the table tells apart: after a run of n in a row the next attempt fails
 * with repeat[k * ALT_EMU_RUN_BINS + n - 1], the last bin serving every longer run. */
#define ALT_EMU_RUN_BINS 8

/* What a contended attempt meets on each link, by contention level (see "Statistical contention"): the
 * probability that it fails for contention after an attempt (of the same download on the link) that did not,
 * first[k], and after a run of n that did, repeat (n_levels x ALT_EMU_RUN_BINS, above); the mean delay to on
 * air. Level 0 is the lone rule (no failures, delay tx_delay); levels past n_levels - 1 use the last.
 * attempts[l][k]: how many contended attempts the calibration saw at level k (levels with too few are
 * interpolated). */
typedef struct alt_emu_contention {
    uint32_t n_levels;
    double *first[2], *repeat[2];
    int64_t *delay[2];
    uint64_t *attempts[2];
} alt_emu_contention;

/* Measures the table for buildings of up to max_installations installations (each with these parameters and
 * shared-air rules) with the stepped engine, on n_threads threads. t is filled (free with
 * alt_emu_contention_free). ALT_OK, ALT_EINVAL or ALT_ENOMEM. */
int alt_emu_contention_calibrate(const alt_emu_params *p, uint32_t max_installations, int n_threads,
                                 alt_emu_contention *t);
void alt_emu_contention_free(alt_emu_contention *t);

/* The latest unit start: a unit's own times (up to its deadline) stay far from overflowing on the common clock. */
#define ALT_EMU_MAX_UNIT_START (INT64_C(1) << 61)

/* Caller-owned outputs. Device rows are 2 * installation + side; the per-installation arrays have one row
 * per installation. Times are seconds from the campaign start, NaN when the stage was never reached. */
/* One exchange of a traced device (alt_emu_outputs.trace). Times are ns from the campaign start. */
enum alt_emu_exchange_result { ALT_EMU_LOST = 0, ALT_EMU_DELIVERED = 1, ALT_EMU_CUT = 2 };
typedef struct alt_emu_exchange_record {
    int64_t t_request;       /* the client sends the request (Image Block Request, Upgrade End Request, Query
                              * Next Image Request), or the CH its Image Notify */
    int64_t t_response;      /* DELIVERED: the response arrived; LOST: the client re-requests (the response
                              * timeout fired, or the last attempt ended later); CUT: the path went down */
    int64_t t_attempts_end;  /* the exchange's last link-layer attempt ended (DELIVERED: t_response; CUT with
                              * no attempt on air: t_request) */
    uint32_t offset;         /* file offset requested (the image size for Upgrade End, 0 for notify/QNI) */
    uint32_t attempt;        /* 0: first request of this offset and kind; k: its k-th re-request */
    uint8_t kind;            /* enum alt_emu_kind */
    uint8_t result;          /* enum alt_emu_exchange_result */
    uint8_t answered;        /* 1: the request reached the CH, so its response went on air (an Image Notify is
                              * the CH's frame: always 1); 0: the request itself was lost (or cut) */
    uint8_t pad[5];          /* (keeps the layout explicit for the Python side's dtype) */
} alt_emu_exchange_record;

/* Per-exchange records of chosen devices. A traced device is stepped exchange by exchange (no closed-form
 * jumps or replays, which stepping reproduces bit for bit), so tracing changes no result. Device row i writes
 * records[first[i] .. first[i] + capacity[i]) and sets count[i] to the exchanges it made: more than
 * capacity[i] means the records stopped there (rerun with a larger capacity). capacity[i] == 0: not traced. */
typedef struct alt_emu_trace {
    alt_emu_exchange_record *records;
    const uint64_t *first, *capacity;    /* per device row */
    uint64_t *count;                     /* per device row */
} alt_emu_trace;

typedef struct alt_emu_outputs {
    uint8_t *outcome, *new_version;
    double *t_image, *t_download_start, *t_download_end, *t_activation, *t_readback;
    uint32_t *exchanges, *exchange_retries, *link_retries_han, *link_retries_bridge;
    uint32_t *frames_han, *frames_bridge;
    double *airtime_han, *airtime_bridge, *dc_wait;
    double *t_end;                       /* when the outcome was known (read-back, abort, WAN failure, deadline);
                                          * may be NULL */
    double *han_per, *bridge_per;        /* per installation: the PER actually used */
    const alt_emu_trace *trace;          /* NULL: no device traced */
    alt_emu_lost_log *lost;              /* bytes fidelity: where each device lost exchanges (emu_lost.h);
                                          * NULL: not recorded */
} alt_emu_outputs;

typedef struct alt_emu_control alt_emu_control;

/* Stop flag and progress counter shared with another thread (C11 atomics inside). */
alt_emu_control *alt_emu_control_new(void);
void alt_emu_control_free(alt_emu_control *ctl);
void alt_emu_control_stop(alt_emu_control *ctl);
uint64_t alt_emu_control_done(const alt_emu_control *ctl);

/* Checks the parameters the engine relies on; ALT_OK or ALT_EINVAL. */
int alt_emu_check(const alt_emu_params *p);

/* Emulates installations first .. first + n - 1 into out rows 0 .. n - 1 (devices 0 .. 2n - 1).
 * han_per / bridge_per: optional per-installation PERs (NULL: from the link parameters). n_threads >= 1.
 * ctl may be NULL. Returns ALT_OK, ALT_EINVAL, ALT_ENOMEM, or ALT_EINTR if stopped through ctl. */
int alt_emu_run(const alt_emu_params *p, uint64_t first, size_t n, const double *han_per,
                const double *bridge_per, const alt_emu_outputs *out, int n_threads, alt_emu_control *ctl);

/* Emulates n units: unit i is installation keys[i] (its randomness) in out row i. sides[i] says which
 * bridges download (bit 0 hub-side, bit 1 meter-side; NULL: both); a side left out reports
 * ALT_EMU_NOT_REQUESTED and the other downloads as if it were alone at the CH. Otherwise as alt_emu_run. */
int alt_emu_run_units(const alt_emu_params *p, const uint64_t *keys, const uint8_t *sides, size_t n,
                      const double *han_per, const double *bridge_per, const alt_emu_outputs *out, int n_threads,
                      alt_emu_control *ctl);

/* Emulates n installations grouped by building, with shared air (the rules above, "Shared air"). Unit i is
 * installation keys[i] in out row i, as in alt_emu_run_units. Group g is units order[group_start[g] ..
 * group_start[g + 1]) in that (canonical) order: ties between simultaneous events go to the earlier unit, so
 * callers sort a group by key to make results independent of the input order. han_channel / bridge_channel:
 * per unit, the channel within its group (small integers: a group has max + 1 channels of each link). A group
 * is never split across threads. Otherwise as alt_emu_run_units. */
int alt_emu_run_buildings(const alt_emu_params *p, const uint64_t *keys, const uint8_t *sides, size_t n,
                          const uint64_t *order, const uint64_t *group_start, size_t n_groups,
                          const uint32_t *han_channel, const uint32_t *bridge_channel, const double *han_per,
                          const double *bridge_per, const alt_emu_outputs *out, int n_threads,
                          alt_emu_control *ctl);

/* One installation (the unit the threads share out). A download polls ctl (may be NULL) every few thousand
 * steps, so even a pathological parameter set stops promptly; a stopped installation's rows are garbage. */
void alt_emu_installation(const alt_emu_params *p, uint64_t installation, unsigned sides, size_t row,
                          const double *han_per, const double *bridge_per, const alt_emu_outputs *out,
                          const alt_emu_control *ctl);

/* One building (the unit the threads share out with shared air): units rows[0 .. n) of the arrays of
 * alt_emu_run_buildings, in that order, with n_held places held from before until held[0 .. n_held) (its
 * slice of p->held_until; p->held_until itself is not read here). ALT_OK, or ALT_ENOMEM. */
int alt_emu_building(const alt_emu_params *p, const uint64_t *keys, const uint8_t *sides, const uint64_t *rows,
                     size_t n, const uint32_t *han_channel, const uint32_t *bridge_channel,
                     const double *han_per, const double *bridge_per, const alt_emu_outputs *out,
                     const alt_emu_control *ctl, const int64_t *held, size_t n_held);

/* Checks the shared-air parameters alt_emu_run_buildings adds; ALT_OK or ALT_EINVAL. */
int alt_emu_check_shared(const alt_emu_params *p);

/* Nonzero once alt_emu_control_stop was called (ctl may be NULL: never). */
int alt_emu_control_stopped(const alt_emu_control *ctl);

#endif
