/* CPU feature detection, done once (from any thread). Reports the CPU whether or not the SIMD tiers are
 * built (ALTHAN_SIMD). */
#ifndef ALT_CPU_H
#define ALT_CPU_H

#include <stdbool.h>

typedef struct alt_cpu_features {
    bool sse41;
    bool pclmul;
    bool aesni;
    bool avx2;      /* includes the OS saving YMM state (XGETBV) */
    bool bmi2;
    bool vaes;      /* 256-bit VAES: needs avx2 as well */
    bool vpclmul;   /* 256-bit VPCLMULQDQ: needs avx2 as well */
    bool sha;
    bool avx512f;   /* includes the OS saving ZMM state */
    bool avx512bw;  /* byte and word instructions on 512-bit registers (and byte-masked stores) */
    bool avx512vl;  /* the AVX-512 encodings on 128- and 256-bit registers */
} alt_cpu_features;

/* Returns the features of the running CPU; detected on the first call and cached. */
const alt_cpu_features *alt_cpu_detect(void);

/* How the families use these flags to choose their tiers: tiers.h. */

#endif
