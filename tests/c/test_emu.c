/* C-level tests of the fleet emulator: Philox against published and numpy values, a small fleet run,
 * exact loss-free timing, thread invariance, exchange traces, stopping, parameter checks. Runs under
 * ASan+UBSan in CI. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "rng.h"

#include "check.h"

static void test_philox_known_answers(void)
{
    /* Random123 kat_vectors (philox4x64-10): counter, key -> output */
    static const struct { uint64_t ctr[4], key[2], out[4]; } kat[] = {
        {{0, 0, 0, 0}, {0, 0},
         {UINT64_C(0x16554d9eca36314c), UINT64_C(0xdb20fe9d672d0fdc), UINT64_C(0xd7e772cee186176b),
          UINT64_C(0x7e68b68aec7ba23b)}},
        {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}, {UINT64_MAX, UINT64_MAX},
         {UINT64_C(0x87b092c3013fe90b), UINT64_C(0x438c3c67be8d0224), UINT64_C(0x9cc7d7c69cd777b6),
          UINT64_C(0xa09caebf594f0ba0)}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint64_t out[4];
        alt_philox4x64_10(kat[i].ctr, kat[i].key, out);
        CHECK(memcmp(out, kat[i].out, sizeof out) == 0, "Random123 known answer %zu", i);
    }
    /* numpy.random.Philox(key=seed + (installation << 64), counter=(stream << 64) + block - 1).random_raw(4) */
    static const struct { uint64_t seed, inst, stream, block, out[4]; } np[] = {
        {0, 0, 1, 0, {UINT64_C(0xe85facf8b3b067d6), UINT64_C(0xfdbc6a61c123b5f8), UINT64_C(0x349bde9a4b8d60c1),
                      UINT64_C(0x39212690df8b178a)}},
        {1, 2, 0, 1, {UINT64_C(0x4f2f4313b5536b09), UINT64_C(0x5b617be3219ff32a), UINT64_C(0x097293476f9275cb),
                      UINT64_C(0xf63f3bf4962c3942)}},
        {UINT64_C(0xdeadbeefcafef00d), 123456789, 9, 1000,
         {UINT64_C(0xa4a731405449882f), UINT64_C(0x8f7854d057d43be0), UINT64_C(0xa543f23d7ec0b4cf),
          UINT64_C(0x965af767a08b9df4)}},
        {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_C(0x8000000000000000),
         {UINT64_C(0x5222e9075f35a4f4), UINT64_C(0x85c21184941e118b), UINT64_C(0x34c58f32346766bb),
          UINT64_C(0x932c340fc93c5180)}},
    };
    for (size_t i = 0; i < sizeof np / sizeof np[0]; i++) {
        alt_rng r;
        alt_rng_init(&r, np[i].seed, np[i].inst, np[i].stream);
        r.ctr[0] = np[i].block;
        for (int w = 0; w < 4; w++) {
            uint64_t got = alt_rng_next(&r);
            CHECK(got == np[i].out[w], "numpy Philox vector %zu word %d: %016llx", i, w, (unsigned long long)got);
        }
    }
}

static void test_helpers(void)
{
    alt_rng_tables_init();
    alt_rng r;
    alt_rng_init(&r, 7, 0, 0);
    double sum = 0.0, lo = 1.0, hi = 0.0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = alt_rng_uniform(&r);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        sum += u;
    }
    CHECK(lo > 0.0 && hi < 1.0, "uniform outside (0,1): %g %g", lo, hi);
    CHECK(fabs(sum / n - 0.5) < 0.005, "uniform mean %g", sum / n);
    double p = 0.1, gsum = 0.0, gsq = 0.0;
    for (int i = 0; i < n; i++) {
        double g = (double)alt_rng_geometric(&r, p);
        gsum += g;
        gsq += g * g;
    }
    double mean = gsum / n, var = gsq / n - mean * mean;
    CHECK(fabs(mean - 1.0 / p) < 0.1, "geometric mean %g, want %g", mean, 1.0 / p);
    CHECK(fabs(var - (1.0 - p) / (p * p)) < 3.0, "geometric variance %g, want %g", var, (1.0 - p) / (p * p));
    CHECK(alt_rng_geometric(&r, 0.0) == ALT_RNG_NEVER, "geometric(0) must never fail");
    /* ziggurat exponential against the exact CDF: Kolmogorov distance of 10^6 draws at fixed points,
     * including the tail beyond the base strip (x > 7.7) */
    static const double xs[] = {0.01, 0.1, 0.5, 1.0, 2.0, 4.0, 7.0, 8.0, 10.0};
    long below[9] = {0};
    const long m = 1000000;
    for (long i = 0; i < m; i++) {
        double e = alt_rng_std_exponential(&r);
        for (int k = 0; k < 9; k++)
            below[k] += e <= xs[k];
    }
    for (int k = 0; k < 9; k++) {
        double want = 1.0 - exp(-xs[k]), got = (double)below[k] / m;
        CHECK(fabs(got - want) < 5.0 * sqrt(want * (1.0 - want) / m) + 1e-6, "exponential CDF at %g: %g vs %g",
              xs[k], got, want);
    }
    double bsum = 0.0;
    for (int i = 0; i < n; i++)
        bsum += alt_rng_beta(&r, 2.0, 18.0);
    CHECK(fabs(bsum / n - 0.1) < 0.002, "beta(2,18) mean %g", bsum / n);
}

/* The defaults of althan_ota.emulate (emulate/airtime.py airtimes for 50-byte blocks), no outages, no WAN trouble. */
static alt_emu_params default_params(void)
{
    alt_emu_params p;
    memset(&p, 0, sizeof p);
    alt_emu_link *han = &p.link[ALT_EMU_HAN], *br = &p.link[ALT_EMU_BRIDGE];
    han->tx_delay = 1248000; han->turnaround = 192000; han->ack_timeout = 864000;
    han->ack.airtime = han->ack.dc_span = 352000; han->max_retries = 3; han->per = 0.02;
    br->tx_delay = 500000; br->turnaround = 1000000; br->ack_timeout = 5000000;
    br->ack.airtime = 3040000; br->ack.dc_span = 30400000; br->max_retries = 3; br->per = 0.10;
    /* block, last block, Upgrade End, Image Notify (one frame: both entries), Query Next Image, WAIT_FOR_DATA */
    const int64_t han_air[ALT_EMU_KINDS][2] = {{2176000, 3776000}, {2176000, 3776000}, {2016000, 2240000},
                                               {2048000, 2048000}, {2016000, 2144000}, {2176000, 2080000}};
    const int64_t br_air[ALT_EMU_KINDS][2] = {{11200000, 19200000}, {11200000, 19200000}, {10400000, 11520000},
                                              {10560000, 10560000}, {10400000, 11040000}, {11200000, 10720000}};
    for (int k = 0; k < ALT_EMU_KINDS; k++)
        for (int d = 0; d < 2; d++) {
            p.frame[k][ALT_EMU_HAN][d].airtime = p.frame[k][ALT_EMU_HAN][d].dc_span = han_air[k][d];
            p.frame[k][ALT_EMU_BRIDGE][d].airtime = br_air[k][d];
            p.frame[k][ALT_EMU_BRIDGE][d].dc_span = 10 * br_air[k][d];
        }
    p.image_size = 20000;
    p.block_size = 50;
    p.min_block_period = 100000000;
    p.ch_response_delay = 5000000;
    p.response_timeout = 5000000000;
    p.max_consecutive_failures = 10;
    p.order = ALT_EMU_METER_FIRST;
    p.wan_delay_median_s = 600.0;
    p.wan_delay_sigma = 1.0;
    p.activation_time = -1;
    p.readback_delay = INT64_C(300000000000);
    p.deadline = INT64_C(604800000000000);
    p.seed = 42;
    return p;
}

typedef struct fleet {
    size_t n;
    alt_emu_outputs out;
    void *blocks[18];
} fleet;

static void fleet_alloc(fleet *f, size_t n)
{
    memset(f, 0, sizeof *f);
    f->n = n;
    int b = 0;
#define DEV(field, type) f->out.field = calloc(2 * n, sizeof(type)); f->blocks[b++] = f->out.field
#define INST(field) f->out.field = calloc(n, sizeof(double)); f->blocks[b++] = f->out.field
    DEV(outcome, uint8_t); DEV(new_version, uint8_t);
    DEV(t_image, double); DEV(t_download_start, double); DEV(t_download_end, double);
    DEV(t_activation, double); DEV(t_readback, double);
    DEV(exchanges, uint32_t); DEV(exchange_retries, uint32_t); DEV(link_retries_han, uint32_t);
    DEV(link_retries_bridge, uint32_t); DEV(frames_han, uint32_t); DEV(frames_bridge, uint32_t);
    DEV(airtime_han, double); DEV(airtime_bridge, double); DEV(dc_wait, double);
    INST(han_per); INST(bridge_per);
#undef DEV
#undef INST
}

static void fleet_free(fleet *f)
{
    for (int i = 0; i < 18; i++)
        free(f->blocks[i]);
}

/* Byte-compares two fleets' outputs (NaN patterns included). */
static int fleet_same(const fleet *a, const fleet *b, size_t rows_a_offset)
{
    const size_t n = b->n;
#define SAME(field, per) \
    if (memcmp(a->out.field + (per) * rows_a_offset, b->out.field, (per) * n * sizeof *b->out.field)) return 0
    SAME(outcome, 2); SAME(new_version, 2); SAME(t_image, 2); SAME(t_download_start, 2);
    SAME(t_download_end, 2); SAME(t_activation, 2); SAME(t_readback, 2); SAME(exchanges, 2);
    SAME(exchange_retries, 2); SAME(link_retries_han, 2); SAME(link_retries_bridge, 2); SAME(frames_han, 2);
    SAME(frames_bridge, 2); SAME(airtime_han, 2); SAME(airtime_bridge, 2); SAME(dc_wait, 2);
    SAME(han_per, 1); SAME(bridge_per, 1);
#undef SAME
    return 1;
}

static const int64_t CH_WINDOWS[] = {INT64_C(1800000000000), INT64_C(2400000000000)};
static const int64_t METER_WINDOWS[] = {INT64_C(600000000000), INT64_C(700000000000),
                                        INT64_C(3000000000000), INT64_C(3100000000000)};

/* Losses, bursts, random and scheduled outages, WAN and activation failures: every path of the engine. */
static alt_emu_params eventful_params(void)
{
    alt_emu_params p = default_params();
    p.wan_failure_prob = 0.05;
    p.activation_failure_prob = 0.05;
    p.mean_up_s[0] = 3600.0; p.mean_down_s[0] = 600.0;       /* frequent CH outages */
    p.mean_up_s[2] = 7200.0; p.mean_down_s[2] = 300.0;
    p.link[ALT_EMU_BRIDGE].per_concentration = 20.0;
    p.link[ALT_EMU_BRIDGE].per_bad = 0.6;
    p.link[ALT_EMU_BRIDGE].mean_bad_len = 4.0;
    p.link[ALT_EMU_BRIDGE].mean_good_len = 100.0;
    p.scheduled[0] = CH_WINDOWS;
    p.n_scheduled[0] = 1;
    p.scheduled[2] = METER_WINDOWS;
    p.n_scheduled[2] = 2;
    return p;
}

static void test_small_fleet_and_threads(void)
{
    alt_emu_params p = eventful_params();
    const size_t n = 300;
    fleet one, many;
    fleet_alloc(&one, n);
    CHECK(alt_emu_run(&p, 1000, n, NULL, NULL, &one.out, 1, NULL) == ALT_OK, "run with 1 thread");
    int counts[5] = {0};
    for (size_t i = 0; i < 2 * n; i++) {
        CHECK(one.out.outcome[i] <= ALT_EMU_TIMEOUT, "outcome code %d", one.out.outcome[i]);
        counts[one.out.outcome[i] <= ALT_EMU_TIMEOUT ? one.out.outcome[i] : 0]++;
        if (one.out.outcome[i] == ALT_EMU_COMPLETED) {
            CHECK(one.out.t_image[i] <= one.out.t_download_start[i] &&
                  one.out.t_download_start[i] < one.out.t_download_end[i] &&
                  one.out.t_download_end[i] <= one.out.t_activation[i] &&
                  one.out.t_activation[i] < one.out.t_readback[i], "stage times out of order at %zu", i);
            CHECK(one.out.exchanges[i] >= 401, "only %u exchanges for 400 blocks", one.out.exchanges[i]);
        }
    }
    CHECK(counts[ALT_EMU_COMPLETED] > (int)n, "too few completions: %d", counts[ALT_EMU_COMPLETED]);
    CHECK(counts[ALT_EMU_WAN_FAILED] > 0 && counts[ALT_EMU_ACTIVATION_FAILED] > 0, "no WAN/activation failures");
    for (int threads = 2; threads <= 7; threads += 5) {
        fleet_alloc(&many, n);
        CHECK(alt_emu_run(&p, 1000, n, NULL, NULL, &many.out, threads, NULL) == ALT_OK, "run");
        CHECK(fleet_same(&one, &many, 0), "%d threads differ from 1", threads);
        fleet_free(&many);
    }
    /* a slice of the fleet gives exactly its rows of the whole */
    fleet slice;
    fleet_alloc(&slice, 100);
    CHECK(alt_emu_run(&p, 1150, 100, NULL, NULL, &slice.out, 2, NULL) == ALT_OK, "slice run");
    CHECK(fleet_same(&one, &slice, 150), "installations 1150..1249 differ when run as a slice");
    fleet_free(&slice);
    /* the closed-form jumps and replays give exactly what stepping every exchange gives */
    fleet stepped;
    fleet_alloc(&stepped, n);
    p.step_every_exchange = 1;
    CHECK(alt_emu_run(&p, 1000, n, NULL, NULL, &stepped.out, 2, NULL) == ALT_OK, "stepped run");
    CHECK(fleet_same(&one, &stepped, 0), "shortcuts change the results");
    fleet_free(&stepped);
    fleet_free(&one);
}

/* One traced device's records against the timing rules (emu.h) and its result row. */
static void check_records(const alt_emu_params *p, const fleet *f, size_t i, const alt_emu_exchange_record *r,
                          uint64_t n)
{
    uint64_t blocks = (p->image_size + p->block_size - 1) / p->block_size, full = p->image_size / p->block_size;
    uint64_t delivered = 0, retries = 0, data = 0;
    int preamble = 0;           /* the notify, then the query, must be delivered before the blocks */
    for (uint64_t k = 0; k < n; k++) {
        if (preamble < 2 || r[k].kind == ALT_EMU_WAIT_FOR_DATA) {
            CHECK(r[k].kind == (preamble == 0 ? ALT_EMU_IMAGE_NOTIFY : preamble == 1 ? ALT_EMU_QUERY_NEXT_IMAGE
                                                                                    : ALT_EMU_WAIT_FOR_DATA),
                  "device %zu record %llu kind %u before the blocks", i, (unsigned long long)k, r[k].kind);
            preamble += preamble < 2 && r[k].result == ALT_EMU_DELIVERED;
            continue;
        }
        data++;
        CHECK(r[k].t_request <= r[k].t_attempts_end && r[k].t_attempts_end <= r[k].t_response &&
              (r[k].result != ALT_EMU_DELIVERED || r[k].t_attempts_end == r[k].t_response) &&
              (r[k].result != ALT_EMU_LOST || r[k].t_attempts_end > r[k].t_request),
              "device %zu record %llu times out of order", i, (unsigned long long)k);
        CHECK(r[k].result <= ALT_EMU_CUT && r[k].kind < ALT_EMU_KINDS, "device %zu record %llu codes", i,
              (unsigned long long)k);
        uint32_t want_offset = delivered < blocks ? (uint32_t)(delivered * p->block_size) : (uint32_t)p->image_size;
        CHECK(r[k].offset == want_offset, "device %zu record %llu offset %u, want %u", i, (unsigned long long)k,
              r[k].offset, want_offset);
        CHECK(r[k].kind == (delivered < full ? ALT_EMU_BLOCK : delivered < blocks ? ALT_EMU_LAST_BLOCK
                                                                                  : ALT_EMU_UPGRADE_END),
              "device %zu record %llu kind %u", i, (unsigned long long)k, r[k].kind);
        if (k > 0 && r[k - 1].kind <= ALT_EMU_UPGRADE_END) {
            const alt_emu_exchange_record *prev = &r[k - 1];
            CHECK(r[k].attempt == (prev->result == ALT_EMU_DELIVERED ? 0 : prev->attempt + 1),
                  "device %zu record %llu attempt %u", i, (unsigned long long)k, r[k].attempt);
            int64_t earliest = prev->result == ALT_EMU_DELIVERED ? prev->t_response + p->min_block_period
                             : prev->result == ALT_EMU_LOST ? prev->t_request + p->response_timeout
                             : prev->t_response;
            CHECK(r[k].t_request >= earliest && r[k].t_request >= prev->t_response,
                  "device %zu record %llu requested too early", i, (unsigned long long)k);
        }
        if (r[k].result == ALT_EMU_DELIVERED)
            delivered++;
        else
            retries++;
    }
    CHECK(data == f->out.exchanges[i] && retries == f->out.exchange_retries[i],
          "device %zu: %llu data records, %u exchanges", i, (unsigned long long)data, f->out.exchanges[i]);
    if (n) {
        CHECK(fabs(r[0].t_request * 1e-9 - f->out.t_download_start[i]) < 1e-9, "device %zu start", i);
        if (f->out.outcome[i] == ALT_EMU_COMPLETED || f->out.outcome[i] == ALT_EMU_ACTIVATION_FAILED)
            CHECK(delivered == blocks + 1 && r[n - 1].kind == ALT_EMU_UPGRADE_END, "device %zu completed", i);
    }
}

static void test_trace_changes_nothing(void)
{
    alt_emu_params p = eventful_params();
    const size_t n = 120;
    fleet plain, traced;
    fleet_alloc(&plain, n);
    fleet_alloc(&traced, n);
    CHECK(alt_emu_run(&p, 500, n, NULL, NULL, &plain.out, 2, NULL) == ALT_OK, "untraced run");
    /* trace every other device; every fifth traced one gets too little room and must say so */
    uint64_t *first = calloc(2 * n, sizeof *first), *capacity = calloc(2 * n, sizeof *capacity);
    uint64_t *count = calloc(2 * n, sizeof *count), total = 0;
    for (size_t i = 0; i < 2 * n; i += 2) {
        first[i] = total;
        capacity[i] = i % 10 == 0 ? plain.out.exchanges[i] / 2 : plain.out.exchanges[i] + 16;
        total += capacity[i];
    }
    for (size_t i = 1; i < 2 * n; i += 4) {     /* and some meter sides */
        first[i] = total;
        capacity[i] = plain.out.exchanges[i] + 17;
        total += capacity[i];
    }
    alt_emu_exchange_record *records = malloc((total ? total : 1) * sizeof *records);
    alt_emu_trace trace = {records, first, capacity, count};
    traced.out.trace = &trace;
    CHECK(alt_emu_run(&p, 500, n, NULL, NULL, &traced.out, 2, NULL) == ALT_OK, "traced run");
    CHECK(fleet_same(&plain, &traced, 0), "tracing changed the results");
    int cut = 0, lost = 0;
    for (size_t i = 0; i < 2 * n; i++) {
        if (!capacity[i]) {
            CHECK(count[i] == 0, "untraced device %zu counted %llu", i, (unsigned long long)count[i]);
            continue;
        }
        /* the notify and the query besides the data exchanges (exactly: check_records) */
        CHECK(count[i] >= plain.out.exchanges[i] + (plain.out.exchanges[i] ? 2 : 0),
              "device %zu counted %llu records for %u exchanges", i, (unsigned long long)count[i],
              plain.out.exchanges[i]);
        if (count[i] <= capacity[i])
            check_records(&p, &plain, i, records + first[i], count[i]);
        for (uint64_t k = 0; k < count[i] && k < capacity[i]; k++) {
            cut += records[first[i] + k].result == ALT_EMU_CUT;
            lost += records[first[i] + k].result == ALT_EMU_LOST;
        }
    }
    CHECK(cut > 0 && lost > 0, "the traced devices saw %d cut and %d lost exchanges", cut, lost);
    trace.records = NULL;
    CHECK(alt_emu_run(&p, 500, n, NULL, NULL, &traced.out, 1, NULL) == ALT_EINVAL, "a trace without records");
    free(records);
    free(first);
    free(capacity);
    free(count);
    fleet_free(&plain);
    fleet_free(&traced);
}

static void test_loss_free_timing_is_exact(void)
{
    alt_emu_params p = default_params();
    p.link[0].per = p.link[1].per = 0.0;
    p.image_size = 1000;     /* 20 blocks, no short last block */
    fleet f;
    fleet_alloc(&f, 3);
    CHECK(alt_emu_run(&p, 0, 3, NULL, NULL, &f.out, 1, NULL) == ALT_OK, "run");
    const alt_emu_link *han = &p.link[0], *br = &p.link[1];
    int64_t han_ex = 2 * (han->tx_delay + han->turnaround + han->ack.airtime) +
                     p.frame[0][0][0].airtime + p.frame[0][0][1].airtime + p.ch_response_delay;
    int64_t hub_cycle = han_ex + p.min_block_period;
    /* the download starts with the notify (one HAN frame) and the query (an exchange) */
    int64_t preamble = 3 * (han->tx_delay + han->turnaround + han->ack.airtime) + p.ch_response_delay +
                       p.frame[ALT_EMU_IMAGE_NOTIFY][0][1].airtime + p.frame[ALT_EMU_QUERY_NEXT_IMAGE][0][0].airtime +
                       p.frame[ALT_EMU_QUERY_NEXT_IMAGE][0][1].airtime;
    /* meter side at a 10% duty cycle: H's response (and its ack of the request) pace the exchange */
    int64_t h_span = p.frame[0][1][1].dc_span + br->ack.dc_span;
    for (size_t i = 0; i < 3; i++) {
        double hub = f.out.t_download_end[2 * i] - f.out.t_download_start[2 * i];
        int64_t want = preamble + 20 * hub_cycle - p.min_block_period;
        CHECK(fabs(hub - want * 1e-9) < 1e-9, "hub-side loss-free download %.9f s, want %.9f s", hub, want * 1e-9);
        double meter = f.out.t_download_end[2 * i + 1] - f.out.t_download_start[2 * i + 1];
        CHECK(meter > 19 * h_span * 1e-9, "meter side faster than its duty cycle allows: %.6f", meter);
        CHECK(f.out.exchanges[2 * i] == 21 && f.out.exchange_retries[2 * i] == 0, "exchange counts");
    }
    fleet_free(&f);
}

static void test_stop_and_bad_parameters(void)
{
    alt_emu_params p = default_params();
    fleet f;
    fleet_alloc(&f, 1000);
    alt_emu_control *ctl = alt_emu_control_new();
    alt_emu_control_stop(ctl);
    CHECK(alt_emu_run(&p, 0, 1000, NULL, NULL, &f.out, 2, ctl) == ALT_EINTR, "a stopped run must say so");
    CHECK(alt_emu_control_done(ctl) < 1000, "a stopped run finished everything");
    alt_emu_control_free(ctl);
    fleet_free(&f);

    alt_emu_params bad = p;
    bad.block_size = 0;
    CHECK(alt_emu_check(&bad) == ALT_EINVAL, "block size 0 accepted");
    bad = p;
    bad.link[1].per = 1.0;
    CHECK(alt_emu_check(&bad) == ALT_EINVAL, "PER 1 accepted");
    bad = p;
    bad.frame[0][1][1].dc_span = 1;
    CHECK(alt_emu_check(&bad) == ALT_EINVAL, "duty-cycle span below the airtime accepted");
    bad = p;
    bad.mean_down_s[1] = 10.0;
    CHECK(alt_emu_check(&bad) == ALT_EINVAL, "outages with no up time accepted");
    CHECK(alt_emu_check(&p) == ALT_OK, "defaults rejected");
}

static void test_outcome_names(void)
{
    for (int o = 0; o < ALT_EMU_OUTCOMES; o++)
        CHECK(alt_emu_outcome_name(o) != NULL, "outcome %d has no name", o);
    CHECK(strcmp(alt_emu_outcome_name(ALT_EMU_HASH_FAILURE), "hash_failure") == 0, "hash_failure's name");
    CHECK(alt_emu_outcome_name(ALT_EMU_OUTCOMES) == NULL && alt_emu_outcome_name(-1) == NULL, "out of range");
}

int main(void)
{
    test_philox_known_answers();
    test_helpers();
    test_small_fleet_and_threads();
    test_trace_changes_nothing();
    test_loss_free_timing_is_exact();
    test_stop_and_bad_parameters();
    test_outcome_names();
    if (failures)
        printf("%d check(s) failed\n", failures);
    else
        printf("test_emu: all passed\n");
    return failures != 0;
}
