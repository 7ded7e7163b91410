/* The rejection samplers of rng.h (out of line: they loop a data-dependent number of times) and the
 * ziggurat's strips. */
#include "rng.h"

#include "once.h"

alt_rng_ziggurat alt_rng_zig_exp;

/* Right edge of the base strip and the common area of every strip, for 256 strips (Marsaglia and Tsang). */
#define ZIG_R 7.69711747013104972
#define ZIG_V 3.949659822581572e-3
#define ZIG_M 9007199254740992.0        /* 2^53: the draws are 53-bit integers */

static void build_ziggurat(void)
{
    alt_rng_ziggurat *z = &alt_rng_zig_exp;
    double de = ZIG_R, te = ZIG_R;
    double q = ZIG_V / exp(-de);
    z->k[0] = (uint64_t)((de / q) * ZIG_M);
    z->k[1] = 0;
    z->w[0] = q / ZIG_M;
    z->w[255] = de / ZIG_M;
    z->f[0] = 1.0;
    z->f[255] = exp(-de);
    for (int i = 254; i >= 1; i--) {
        de = -log(ZIG_V / de + exp(-de));
        z->k[i + 1] = (uint64_t)((de / te) * ZIG_M);
        te = de;
        z->f[i] = exp(-de);
        z->w[i] = de / ZIG_M;
    }
}

static void build_ziggurat_once(void *unused)
{
    (void)unused;
    build_ziggurat();
}

void alt_rng_tables_init(void)
{
    static atomic_int built;
    alt_run_once(&built, build_ziggurat_once, NULL);
}

/* The ~1% of exponential draws outside the strips' rectangles: the tail beyond ZIG_R, or a wedge test. */
double alt_rng_exponential_slow(alt_rng *r, uint64_t j, int strip)
{
    const alt_rng_ziggurat *z = &alt_rng_zig_exp;
    for (;;) {
        if (strip == 0)
            return ZIG_R - log(alt_rng_uniform(r));
        double x = (double)j * z->w[strip];
        if (z->f[strip] + alt_rng_uniform(r) * (z->f[strip - 1] - z->f[strip]) < exp(-x))
            return x;
        uint64_t word = alt_rng_next(r);
        strip = (int)(word & 0xFF);
        j = word >> 11;
        if (j < z->k[strip])
            return (double)j * z->w[strip];
    }
}

double alt_rng_gamma(alt_rng *r, double shape)
{
    if (shape < 1.0) {
        double u = alt_rng_uniform(r);
        return alt_rng_gamma(r, shape + 1.0) * pow(u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = alt_rng_normal(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = alt_rng_uniform(r);
        if (u < 1.0 - 0.0331 * x * x * x * x)
            return d * v;
        if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return d * v;
    }
}

double alt_rng_beta(alt_rng *r, double a, double b)
{
    double x = alt_rng_gamma(r, a), y = alt_rng_gamma(r, b);
    if (x + y == 0.0)      /* both underflowed (tiny shapes): the mass sits at 0 and 1 in ratio b : a */
        return alt_rng_uniform(r) < a / (a + b) ? 1.0 : 0.0;
    return x / (x + y);
}
