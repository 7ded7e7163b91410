#include "cpu.h"

#include <stdint.h>
#include <string.h>

#include "once.h"

/* Detection does not depend on the SIMD tiers being built (ALTHAN_SIMD=OFF): it reports the CPU. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>

static uint64_t read_xcr0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static void detect(alt_cpu_features *f)
{
    unsigned a, b, c, d;
    memset(f, 0, sizeof *f);
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    bool osxsave = (c >> 27) & 1;
    f->sse41 = (c >> 19) & 1;
    f->pclmul = (c >> 1) & 1;
    f->aesni = (c >> 25) & 1;
    bool avx = (c >> 28) & 1;
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    bool ymm_saved = (xcr0 & 0x6) == 0x6;
    bool zmm_saved = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, 0) < 7)
        return;
    __cpuid_count(7, 0, a, b, c, d);
    f->avx2 = avx && ymm_saved && ((b >> 5) & 1);
    f->bmi2 = (b >> 8) & 1;
    f->sha = (b >> 29) & 1;
    f->avx512f = zmm_saved && ((b >> 16) & 1);
    f->avx512bw = f->avx512f && ((b >> 30) & 1);
    f->avx512vl = f->avx512f && ((b >> 31) & 1);
    f->vaes = f->avx2 && ((c >> 9) & 1);
    f->vpclmul = f->avx2 && ((c >> 10) & 1);
}
#else
static void detect(alt_cpu_features *f) { memset(f, 0, sizeof *f); }
#endif

static alt_cpu_features features;
static atomic_int detected;

static void detect_once(void *unused)
{
    (void)unused;
    detect(&features);
}

const alt_cpu_features *alt_cpu_detect(void)
{
    alt_run_once(&detected, detect_once, NULL);
    return &features;
}
