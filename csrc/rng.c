/* The rejection samplers of rng.h (out of line: they loop a data-dependent number of times). */
#include "rng.h"

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
    return x / (x + y);
}
