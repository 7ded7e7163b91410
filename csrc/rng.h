/* Counter-based random numbers for the emulator: Philox4x64-10 (Salmon et al., "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011), bit-identical to numpy.random.Philox.
 *
 * Why 4x64 rather than 4x32: numpy's Philox is the 4x64-10 variant, and matching it bit for bit gives the
 * tests an independent reference; one block also yields four 64-bit words, i.e. four doubles.
 *
 * Key and counter layout (documented so anyone can reproduce a draw with numpy):
 *   key     = (seed, installation)                       two 64-bit words
 *   counter = (block, stream, 0, 0)                      four 64-bit words, word 0 least significant
 * A stream is 2^64 blocks; its block counter never carries into the stream word, so streams never overlap.
 * Block b of stream s for installation i under seed k equals the first four outputs of
 *   numpy.random.Philox(key=k + (i << 64), counter=(s << 64) + b - 1).random_raw(4)
 * (numpy increments its counter before each block; pass the key as one Python int, since a list of large
 * words goes through float64 and loses bits). Randomness therefore depends only on (seed,
 * installation, stream, draw index): never on thread count, slicing or the order installations are run in.
 */
#ifndef ALT_RNG_H
#define ALT_RNG_H

#include <math.h>
#include <stdint.h>

#define ALT_PHILOX_M0 UINT64_C(0xD2E7470EE14C6C93)
#define ALT_PHILOX_M1 UINT64_C(0xCA5A826395121157)
#define ALT_PHILOX_W0 UINT64_C(0x9E3779B97F4A7C15)
#define ALT_PHILOX_W1 UINT64_C(0xBB67AE8584CAA73B)

static inline uint64_t alt_mulhilo64(uint64_t a, uint64_t b, uint64_t *hi)
{
#if defined(__SIZEOF_INT128__)
    unsigned __int128 p = (unsigned __int128)a * b;
    *hi = (uint64_t)(p >> 64);
    return (uint64_t)p;
#else
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return a * b;
#endif
}

/* One Philox4x64-10 block: out = philox(ctr, key). */
static inline void alt_philox4x64_10(const uint64_t ctr[4], const uint64_t key[2], uint64_t out[4])
{
    uint64_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint64_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t hi0, hi1;
        uint64_t lo0 = alt_mulhilo64(ALT_PHILOX_M0, c0, &hi0);
        uint64_t lo1 = alt_mulhilo64(ALT_PHILOX_M1, c2, &hi1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += ALT_PHILOX_W0;
        k1 += ALT_PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* A sequential reader over one stream: draws 64-bit words in order, one Philox block per four words. */
typedef struct alt_rng {
    uint64_t key[2];
    uint64_t ctr[4];      /* ctr[0] is the next block to generate */
    uint64_t buf[4];
    int pos;              /* next unread word of buf; 4 = empty */
} alt_rng;

static inline void alt_rng_init(alt_rng *r, uint64_t seed, uint64_t installation, uint64_t stream)
{
    r->key[0] = seed; r->key[1] = installation;
    r->ctr[0] = 0; r->ctr[1] = stream; r->ctr[2] = 0; r->ctr[3] = 0;
    r->pos = 4;
}

static inline uint64_t alt_rng_next(alt_rng *r)
{
    if (r->pos == 4) {
        alt_philox4x64_10(r->ctr, r->key, r->buf);
        r->ctr[0]++;
        r->pos = 0;
    }
    return r->buf[r->pos++];
}

/* Uniform double strictly inside (0, 1): 53 random bits, centred on the grid so 0 and 1 never occur. */
static inline double alt_rng_uniform(alt_rng *r)
{
    return ((double)(alt_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Bernoulli(p): 1 with probability p. */
static inline int alt_rng_bernoulli(alt_rng *r, double p)
{
    return alt_rng_uniform(r) < p;
}

/* Standard exponential by the ziggurat method (Marsaglia and Tsang, 2000; 256 strips, the 64-bit layout
 * numpy uses): about 99% of draws cost one word, one compare and one multiply, no logarithm. The strips
 * come from alt_rng_tables_init(), which alt_emu_run calls before drawing anything. */
typedef struct alt_rng_ziggurat {
    uint64_t k[256];      /* a 53-bit draw below k[i] lies inside strip i's rectangle */
    double w[256];        /* strip i's width per unit of the 53-bit draw */
    double f[256];        /* exp(-x) at strip i's edge */
} alt_rng_ziggurat;

extern alt_rng_ziggurat alt_rng_zig_exp;
void alt_rng_tables_init(void);                     /* idempotent and thread-safe */
double alt_rng_exponential_slow(alt_rng *r, uint64_t j, int strip);

static inline double alt_rng_std_exponential(alt_rng *r)
{
    uint64_t word = alt_rng_next(r);
    int strip = (int)(word & 0xFF);
    uint64_t j = word >> 11;                        /* 53 bits, disjoint from the strip's 8 */
    if (j < alt_rng_zig_exp.k[strip])
        return (double)j * alt_rng_zig_exp.w[strip];
    return alt_rng_exponential_slow(r, j, strip);
}

static inline double alt_rng_exponential(alt_rng *r, double mean)
{
    return mean * alt_rng_std_exponential(r);
}

/* Largest value alt_rng_geometric returns: "never" for practical purposes, and safe to add to a counter. */
#define ALT_RNG_NEVER (INT64_C(1) << 62)

/* Geometric draw (see alt_rng_geometric) with inv_log_q = 1 / log1p(-p) precomputed; inv_log_q = 0 means
 * p = 0. With E exponential, floor(E / -log(1 - p)) + 1 exceeds n with probability exp(n log(1 - p)) =
 * (1 - p)^n: exactly the geometric law. */
static inline int64_t alt_rng_geometric_fast(alt_rng *r, double inv_log_q)
{
    if (inv_log_q == 0.0)
        return ALT_RNG_NEVER;
    double x = -alt_rng_std_exponential(r) * inv_log_q;     /* >= 0, so truncation is floor */
    return x >= (double)(ALT_RNG_NEVER - 1) ? ALT_RNG_NEVER : (int64_t)x + 1;
}

static inline double alt_rng_inv_log_q(double p)
{
    return p <= 0.0 ? 0.0 : 1.0 / log1p(-p);   /* p in [0, 1) */
}

/* Number of independent trials up to and including the first failure, each failing with probability p:
 * P(N = n) = (1 - p)^(n-1) p, n >= 1 (inversion, exact up to rounding). p <= 0 gives ALT_RNG_NEVER. */
static inline int64_t alt_rng_geometric(alt_rng *r, double p)
{
    if (p <= 0.0)
        return ALT_RNG_NEVER;
    if (p >= 1.0)
        return 1;
    return alt_rng_geometric_fast(r, 1.0 / log1p(-p));
}

/* Standard normal by Box-Muller (uses two words; the second variate is dropped to keep streams simple). */
static inline double alt_rng_normal(alt_rng *r)
{
    double u1 = alt_rng_uniform(r), u2 = alt_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

/* Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 through the U^(1/shape) boost. */
double alt_rng_gamma(alt_rng *r, double shape);

/* Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
double alt_rng_beta(alt_rng *r, double a, double b);

#endif
