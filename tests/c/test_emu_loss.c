/* The loss processes draw their exponentials ahead of use (csrc/emu_link.inc): check, attempt by attempt,
 * that they fail exactly the attempts a loss process drawing one value at a time straight from its stream
 * fails (the engine before the look-ahead), for plain and bursty links, over many streams: enough draws to
 * cross many refills and to take the ziggurat's slow path (about 1% of draws) many times. */
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

int main(void)
{
    alt_rng_tables_init();
    test_lookahead_matches_direct_draws();
    if (failures)
        printf("%d check(s) failed\n", failures);
    else
        printf("test_emu_loss: all passed\n");
    return failures != 0;
}
