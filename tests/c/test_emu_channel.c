/* C-level tests of the shared-channel event loop (csrc/emu_channel.h): pure ALOHA's collision probability
 * e^{-2G}, the duty-cycle bound per transmitter, the mean 802.15.4 CSMA-CA access delay of a lone station,
 * reproducibility and parameter checks. Runs under ASan+UBSan in CI. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_channel.h"

#include "check.h"

static alt_emu_channel_params base(int access, uint32_t n)
{
    alt_emu_channel_params p;
    memset(&p, 0, sizeof p);
    p.access = access;
    p.n_stations = n;
    p.airtime = 1000000;                 /* 1 ms */
    p.dc_span = p.airtime;
    p.cca = 128000;
    p.cca_to_tx = 192000;
    p.unit = 320000;
    p.min_be = 3;
    p.max_be = 5;
    p.max_backoffs = 4;
    p.max_slots = 10;
    p.max_deferrals = 8;
    p.duration = INT64_C(200000000000);  /* 200 s */
    p.capture_margin_db = NAN;
    p.seed = 7;
    p.key = 1;
    return p;
}

static void test_aloha_success_probability(void)
{
    /* G = 0.5 frames per airtime over 500 stations: a frame survives when no other starts within one airtime
     * either side of it, probability e^{-2G} */
    alt_emu_channel_params p = base(ALT_EMU_ALOHA, 500);
    p.mean_interarrival = 500 * 1e6 / 0.5;
    alt_emu_channel_counts c;
    CHECK(alt_emu_channel_run(&p, &c, NULL, NULL, 0, NULL) == ALT_OK, "ALOHA run");
    double g = (double)c.sent * (double)p.airtime / (double)p.duration;
    double success = (double)c.delivered / (double)(c.delivered + c.collided);
    CHECK(fabs(g - 0.5) < 0.01, "offered load %g", g);
    CHECK(fabs(success - exp(-2 * g)) < 0.01, "ALOHA success %g, e^-2G %g", success, exp(-2 * g));
    CHECK(c.access_failures == 0 && c.assessments == 0, "ALOHA does not listen");
}

static void test_duty_cycle_bound(void)
{
    /* saturated transmitters with a 10% duty cycle never exceed it, and with little contention reach it */
    alt_emu_channel_params p = base(ALT_EMU_LBT, 4);
    p.dc_span = 10 * p.airtime;
    p.duration = INT64_C(10000000000);
    int64_t air[4];
    alt_emu_channel_counts c;
    CHECK(alt_emu_channel_run(&p, &c, air, NULL, 0, NULL) == ALT_OK, "LBT run");
    for (int i = 0; i < 4; i++) {
        CHECK(air[i] <= p.duration / 10 + p.airtime, "station %d on air %lld ns of %lld", i, (long long)air[i],
              (long long)p.duration);
        CHECK(air[i] > p.duration / 20, "station %d on air only %lld ns", i, (long long)air[i]);
    }
}

static void test_lone_csma_delay(void)
{
    /* one saturated station never finds the channel busy at its CCA (its own frame has ended), so its access
     * delay averages 3.5 backoff units (macMinBE 3) plus the CCA and the turnaround */
    alt_emu_channel_params p = base(ALT_EMU_CSMA_802154, 1);
    p.duration = INT64_C(100000000000);
    alt_emu_channel_counts c;
    CHECK(alt_emu_channel_run(&p, &c, NULL, NULL, 0, NULL) == ALT_OK, "CSMA run");
    double mean = (double)c.access_delay_ns / (double)c.sent;
    double expect = 3.5 * (double)p.unit + (double)p.cca + (double)p.cca_to_tx;
    CHECK(fabs(mean / expect - 1) < 0.01, "mean access delay %g ns, expected %g", mean, expect);
    CHECK(c.collided == 0 && c.busy_assessments == 0, "a lone station never collides");
}

static void test_reproducible_and_capture(void)
{
    alt_emu_channel_params p = base(ALT_EMU_CSMA_802154, 20);
    p.mean_interarrival = 20 * 1e6 / 0.8;
    p.duration = INT64_C(5000000000);
    alt_emu_channel_counts a, b;
    int64_t delays[64];
    size_t n_delays = 0;
    CHECK(alt_emu_channel_run(&p, &a, NULL, delays, 64, &n_delays) == ALT_OK, "run a");
    CHECK(alt_emu_channel_run(&p, &b, NULL, NULL, 0, NULL) == ALT_OK, "run b");
    CHECK(memcmp(&a, &b, sizeof a) == 0, "same seed, same counts");
    CHECK(n_delays == a.sent && a.sent > 64, "every sent frame's delay counted (%zu of %llu)", n_delays,
          (unsigned long long)a.sent);
    CHECK(a.collided > 0 && a.busy_assessments > 0, "a loaded channel sees collisions and busy CCAs");
    /* with capture and one station 20 dB above the rest, some of its overlapped frames survive */
    double power[20] = {20.0};
    p.power_db = power;
    p.capture_margin_db = 6.0;
    CHECK(alt_emu_channel_run(&p, &b, NULL, NULL, 0, NULL) == ALT_OK, "capture run");
    CHECK(b.delivered > a.delivered, "capture delivers more (%llu vs %llu)", (unsigned long long)b.delivered,
          (unsigned long long)a.delivered);
}

static void test_checks(void)
{
    alt_emu_channel_params p = base(ALT_EMU_CSMA_802154, 2);
    alt_emu_channel_counts c;
    CHECK(alt_emu_channel_run(&p, &c, NULL, NULL, 0, NULL) == ALT_OK, "valid");
    alt_emu_channel_params q = p;
    q.n_stations = 0;
    CHECK(alt_emu_channel_run(&q, &c, NULL, NULL, 0, NULL) == ALT_EINVAL, "no stations");
    q = p;
    q.dc_span = q.airtime - 1;
    CHECK(alt_emu_channel_run(&q, &c, NULL, NULL, 0, NULL) == ALT_EINVAL, "dc span below airtime");
    q = p;
    q.min_be = 6;
    CHECK(alt_emu_channel_run(&q, &c, NULL, NULL, 0, NULL) == ALT_EINVAL, "min_be above max_be");
    q = p;
    q.access = 9;
    CHECK(alt_emu_channel_run(&q, &c, NULL, NULL, 0, NULL) == ALT_EINVAL, "unknown access");
    q = p;
    q.mean_interarrival = NAN;
    CHECK(alt_emu_channel_run(&q, &c, NULL, NULL, 0, NULL) == ALT_EINVAL, "NaN interarrival");
    CHECK(alt_emu_channel_run(&p, NULL, NULL, NULL, 0, NULL) == ALT_EINVAL, "no outputs");
    q = p;
    q.unit = INT64_MAX / 2;
    CHECK(alt_emu_channel_run(&q, &c, NULL, NULL, 0, NULL) == ALT_EINVAL, "a unit that could overflow times");
    q = p;
    q.duration = INT64_MAX;
    CHECK(alt_emu_channel_run(&q, &c, NULL, NULL, 0, NULL) == ALT_EINVAL, "a duration that could overflow");
    /* the longest allowed spans still run without overflow (UBSan would stop here) */
    q = base(ALT_EMU_LBT, 3);
    q.airtime = q.cca = q.cca_to_tx = q.unit = INT64_C(1000000000000);
    q.dc_span = INT64_C(1000000000000000);
    q.max_slots = 1000000;
    q.duration = INT64_C(100000000) * INT64_C(1000000000);
    CHECK(alt_emu_channel_run(&q, &c, NULL, NULL, 0, NULL) == ALT_OK, "longest spans");
}

int main(void)
{
    test_aloha_success_probability();
    test_duty_cycle_bound();
    test_lone_csma_delay();
    test_reproducible_and_capture();
    test_checks();
    if (failures)
        fprintf(stderr, "%d failures\n", failures);
    return failures != 0;
}
