/* CPU feature detection, done once. Every kernel family chooses its tier from these flags. */
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
} alt_cpu_features;

/* Returns the features of the running CPU; detected on the first call and cached. */
const alt_cpu_features *alt_cpu_detect(void);

#endif

/* Tier convention, followed by every kernel family <fam> (crc, sha256, aes, ccm, ...), in <fam>.h:
 *
 *   int         alt_<fam>_tier_count(void);     tiers usable on this build and CPU; tier 0 is "portable",
 *                                               higher indices are faster, the last is the best
 *   const char *alt_<fam>_tier_name(int tier);  e.g. "portable", "pclmulqdq", "vpclmulqdq"; NULL if out of range
 *   int         alt_<fam>_set_tier(int tier);   ALT_OK, or ALT_EUNSUPPORTED for an index out of range
 *   int         alt_<fam>_get_tier(void);
 *
 * A family starts on its best tier. The family's Cython module exposes tier_names(), get_tier() and
 * set_tier(name), and registers itself in althan_ota._backend.FAMILIES.
 */
