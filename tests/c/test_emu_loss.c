/* The loss processes draw their exponentials ahead of use (csrc/emu_link.inc): check, attempt by attempt,
 * that they fail exactly the attempts a loss process drawing one value at a time straight from its stream
 * fails (the engine before the look-ahead), for plain and bursty links, over many streams: enough draws to
 * cross many refills and to take the ziggurat's slow path (about 1% of draws) many times. And statistical
 * contention's second loss process: its runs and gaps against the chain it is drawn from. */
#include <math.h>
#include <stdio.h>

#include "emu_link.inc"

#include "check.h"

/* The reference: the loss process as it was, every geometric straight from the stream. */
typedef struct ref_loss {
    alt_rng rng;
    int64_t pos, next_loss, sojourn_end;
    double p[2], loss_k[2], leave_k[2];
    int bursty, state;
} ref_loss;

static int64_t ref_sojourn(ref_loss *l)
{
    return l->leave_k[l->state] == 0.0 ? 1 : alt_rng_geometric_fast(&l->rng, l->leave_k[l->state]);
}

static int64_t ref_draw_next(ref_loss *l)
{
    if (!l->bursty)
        return l->pos + alt_rng_geometric_fast(&l->rng, l->loss_k[0]);
    if (l->p[0] <= 0.0 && l->p[1] <= 0.0)
        return ALT_RNG_NEVER;
    int64_t cur = l->pos;
    for (;;) {
        int64_t g = alt_rng_geometric_fast(&l->rng, l->loss_k[l->state]);
        if (g <= l->sojourn_end - cur)
            return cur + g;
        cur = l->sojourn_end;
        l->state ^= 1;
        l->sojourn_end = cur + ref_sojourn(l);
    }
}

static void ref_init(ref_loss *l, uint64_t seed, uint64_t inst, uint64_t stream, double per, double per_bad,
                     double mean_good, double mean_bad)
{
    alt_rng_init(&l->rng, seed, inst, stream);
    l->pos = 0;
    l->p[0] = per;
    l->p[1] = per_bad;
    l->loss_k[0] = alt_rng_inv_log_q(per);
    l->loss_k[1] = alt_rng_inv_log_q(per_bad);
    l->bursty = mean_bad > 0.0;
    l->state = 0;
    if (l->bursty) {
        l->leave_k[0] = mean_good > 1.0 ? alt_rng_inv_log_q(1.0 / mean_good) : 0.0;
        l->leave_k[1] = mean_bad > 1.0 ? alt_rng_inv_log_q(1.0 / mean_bad) : 0.0;
        l->state = alt_rng_bernoulli(&l->rng, mean_bad / (mean_good + mean_bad));
        l->sojourn_end = ref_sojourn(l);
    }
    l->next_loss = ref_draw_next(l);
}

static int ref_attempt(ref_loss *l)
{
    if (++l->pos != l->next_loss)
        return 0;
    l->next_loss = ref_draw_next(l);
    return 1;
}

static void test_lookahead_matches_direct_draws(void)
{
    static const struct { double per, per_bad, mean_good, mean_bad; } links[] = {
        {0.02, 0.0, 0.0, 0.0},        /* the HAN's default */
        {0.10, 0.0, 0.0, 0.0},        /* the bridge link's default */
        {0.6, 0.0, 0.0, 0.0},         /* most attempts fail: draws on nearly every attempt */
        {0.0, 0.0, 0.0, 0.0},         /* never fails: no draws at all */
        {0.02, 0.5, 200.0, 5.0},      /* Gilbert-Elliott, the documented default burst */
        {0.1, 0.7, 50.0, 3.0},
        {0.05, 0.3, 1.0, 1.0},        /* sojourns of one attempt: no sojourn draws */
        {0.0, 0.9, 20.0, 4.0},        /* losses in the bad state only */
    };
    long losses = 0;
    for (size_t k = 0; k < sizeof links / sizeof links[0]; k++) {
        for (uint64_t inst = 0; inst < 40; inst++) {
            uint64_t seed = 7 + 1000 * k, stream = 8 + (inst & 3);
            alt_emu_loss fast;
            ref_loss ref;
            alt_emu_loss_init(&fast, seed, inst, stream, links[k].per, links[k].per_bad, links[k].mean_good,
                              links[k].mean_bad);
            ref_init(&ref, seed, inst, stream, links[k].per, links[k].per_bad, links[k].mean_good,
                     links[k].mean_bad);
            int same = fast.next_loss == ref.next_loss;
            for (int a = 0; a < 20000 && same; a++) {
                int lost = alt_emu_loss_attempt(&fast);
                same = lost == ref_attempt(&ref) && fast.next_loss == ref.next_loss && fast.state == ref.state;
                losses += lost;
            }
            CHECK(same, "link %zu, installation %llu: the look-ahead loss process left the direct one", k,
                  (unsigned long long)inst);
        }
    }
    CHECK(losses > 500000, "too few losses (%ld) to exercise refills and the ziggurat's slow path", losses);
}

/* Statistical contention's loss process (alt_emu_extra_loss), drawn a run at a time, against the chain it
 * stands for: runs of contention failures of length n with probability S(n) - S(n + 1), S the product of the
 * hazards (the last one held for longer runs), and geometric gaps of `first` between runs. Counted over many
 * attempts on a link that never fails by itself, each count within 5 standard deviations of its expectation. */
static void test_contention_runs_follow_their_hazards(void)
{
    const double first = 0.08;
    const double repeat[ALT_EMU_RUN_BINS] = {0.3, 0.5, 0.6, 0.6, 0.7, 0.7, 0.75, 0.8};
    enum { MAX_LEN = 40, MAX_GAP = 60 };
    long runs_of[MAX_LEN + 1] = {0}, gaps_of[MAX_GAP + 1] = {0}, runs = 0, gaps = 0;
    for (uint64_t inst = 0; inst < 50; inst++) {
        alt_emu_loss link;
        alt_emu_extra_loss extra;
        alt_emu_loss_init(&link, 3, inst, 8, 0.0, 0.0, 0.0, 0.0);
        alt_rng_init(&extra.rng, 3, inst, 24);
        alt_emu_loss_set_extra(&link, &extra, first, repeat);
        long run = 0, gap = 0;
        for (int a = 0; a < 200000; a++) {
            if (alt_emu_loss_attempt(&link)) {
                if (run == 0 && a > 0) {     /* a gap ended (the first one starts at attempt 0, not after a run) */
                    gaps_of[gap < MAX_GAP ? gap : MAX_GAP]++;
                    gaps++;
                }
                run++;
                gap = 0;
            } else {
                if (run) {
                    runs_of[run < MAX_LEN ? run : MAX_LEN]++;
                    runs++;
                }
                run = 0;
                gap++;
            }
        }
    }
    CHECK(runs > 100000, "too few runs (%ld)", runs);
    double survive = 1.0;       /* S(n): a run lasts at least n */
    for (int n = 1; n < MAX_LEN; n++) {
        double hazard = repeat[(n < ALT_EMU_RUN_BINS ? n : ALT_EMU_RUN_BINS) - 1];
        double expected = (double)runs * survive * (1.0 - hazard);
        CHECK(fabs((double)runs_of[n] - expected) <= 5.0 * sqrt(expected) + 1.0,
              "runs of %d: %ld, expected %.1f", n, runs_of[n], expected);
        survive *= hazard;
    }
    /* a gap of g >= 1 attempts that did not fail: geometric from the attempt after the run */
    for (int g = 1; g < MAX_GAP; g++) {
        double expected = (double)gaps * pow(1.0 - first, g - 1) * first;
        CHECK(fabs((double)gaps_of[g] - expected) <= 5.0 * sqrt(expected) + 1.0,
              "gaps of %d: %ld, expected %.1f", g, gaps_of[g], expected);
    }
    /* level 0 again: no more contention failures */
    alt_emu_loss link;
    alt_emu_extra_loss extra;
    alt_emu_loss_init(&link, 3, 99, 8, 0.0, 0.0, 0.0, 0.0);
    alt_rng_init(&extra.rng, 3, 99, 24);
    alt_emu_loss_set_extra(&link, &extra, first, repeat);
    for (int a = 0; a < 1000; a++)
        alt_emu_loss_attempt(&link);
    alt_emu_loss_set_extra(&link, &extra, 0.0, NULL);
    long after = 0;
    for (int a = 0; a < 100000; a++)
        after += alt_emu_loss_attempt(&link);
    CHECK(after == 0, "%ld contention failures at level 0", after);
}

int main(void)
{
    alt_rng_tables_init();
    test_lookahead_matches_direct_draws();
    test_contention_runs_follow_their_hazards();
    if (failures)
        printf("%d check(s) failed\n", failures);
    else
        printf("test_emu_loss: all passed\n");
    return failures != 0;
}
