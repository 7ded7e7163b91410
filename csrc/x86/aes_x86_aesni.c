/* AES-NI tier: key schedule, ECB eight blocks at a time, AES-MMO, and CCM* with several frames interleaved
 * (four per group for mixed shapes, six for uniform batches: ccm_x86_uniform_kernel.h). */
#include <immintrin.h>

#include "aes_impl.h"
#include "x86/aes_x86_keystep.h"

void alt_aes_aesni_expand(const uint8_t key[16], alt_aes128_key *ks)
{
    __m128i k = _mm_loadu_si128((const __m128i *)key);
    _mm_store_si128((__m128i *)ks->rk[0], k);
#define STEP(r, rc)                     \
    k = alt_aes_x86_keystep(k, rc);     \
    _mm_store_si128((__m128i *)ks->rk[r], k);
    ALT_AES_FOR_EACH_ROUND(STEP)
#undef STEP
}

static inline __m128i encrypt1(const __m128i *rk, __m128i b)
{
    b = _mm_xor_si128(b, rk[0]);
    _Pragma("GCC unroll 16")
    for (int r = 1; r < ALT_AES128_ROUNDS; r++)
        b = _mm_aesenc_si128(b, rk[r]);
    return _mm_aesenclast_si128(b, rk[ALT_AES128_ROUNDS]);
}

static void aesni_ecb(const alt_aes128_key *ks, const uint8_t *in, uint8_t *out, size_t nblocks)
{
    const __m128i *rk = (const __m128i *)ks->rk;
    size_t i = 0;
    for (; i + 8 <= nblocks; i += 8) {
        __m128i b[8];
        _Pragma("GCC unroll 16")
        for (int j = 0; j < 8; j++)
            b[j] = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(in + 16 * (i + j))), rk[0]);
        _Pragma("GCC unroll 16")
        for (int r = 1; r < ALT_AES128_ROUNDS; r++)
            _Pragma("GCC unroll 16")
            for (int j = 0; j < 8; j++)
                b[j] = _mm_aesenc_si128(b[j], rk[r]);
        _Pragma("GCC unroll 16")
        for (int j = 0; j < 8; j++)
            _mm_storeu_si128((__m128i *)(out + 16 * (i + j)),
                             _mm_aesenclast_si128(b[j], rk[ALT_AES128_ROUNDS]));
    }
    for (; i < nblocks; i++)
        _mm_storeu_si128((__m128i *)(out + 16 * i),
                         encrypt1(rk, _mm_loadu_si128((const __m128i *)(in + 16 * i))));
}

/* Each block's key is the previous chaining value, so every round key is made just before its round. */
void alt_aes_aesni_mmo(uint8_t h[16], const uint8_t *blocks, size_t nblocks)
{
    __m128i hv = _mm_loadu_si128((const __m128i *)h);
    for (size_t i = 0; i < nblocks; i++) {
        __m128i m = _mm_loadu_si128((const __m128i *)(blocks + 16 * i));
        __m128i k = hv, x = _mm_xor_si128(m, k);
#define ROUND(r, rc)                                                                   \
        k = alt_aes_x86_keystep(k, rc);                                                \
        x = (r) < ALT_AES128_ROUNDS ? _mm_aesenc_si128(x, k) : _mm_aesenclast_si128(x, k);
        ALT_AES_FOR_EACH_ROUND(ROUND)
#undef ROUND
        hv = _mm_xor_si128(x, m);
    }
    _mm_storeu_si128((__m128i *)h, hv);
}

#define LANES 4

/* Runs LANES frames in lock step (ccm_job.h): per step, every lane's MAC block and keystream block, so
 * 2 * LANES independent AES streams cover the latency of AESENC. A lane whose frame is shorter computes
 * blocks nobody reads until the longest frame of the group is done. */
static void ccm_group(alt_ccm_job *const job[LANES], bool decrypt)
{
    alt_aes128_key local[LANES];
    const __m128i *rk[LANES];
    __m128i k[LANES];
    _Pragma("GCC unroll 16")
    for (int j = 0; j < LANES; j++) {
        k[j] = _mm_loadu_si128((const __m128i *)job[j]->key);
        _mm_store_si128((__m128i *)local[j].rk[0], k[j]);
    }
#define STEP(r, rc)                                              \
    for (int j = 0; j < LANES; j++) {                            \
        k[j] = alt_aes_x86_keystep(k[j], rc);                    \
        _mm_store_si128((__m128i *)local[j].rk[r], k[j]);        \
    }
    ALT_AES_FOR_EACH_ROUND(STEP)
#undef STEP
    size_t steps = 0;
    __m128i x[LANES], a0[LANES];
    _Pragma("GCC unroll 16")
    for (int j = 0; j < LANES; j++) {
        rk[j] = (const __m128i *)(job[j]->ks ? job[j]->ks->rk : local[j].rk);
        steps = job[j]->steps > steps ? job[j]->steps : steps;
        x[j] = _mm_setzero_si128();
        a0[j] = _mm_load_si128((const __m128i *)job[j]->a0);
    }
    for (size_t t = 0; t < steps; t++) {
        __m128i c[LANES];
        _Pragma("GCC unroll 16")
        for (int j = 0; j < LANES; j++) {
            __m128i m = _mm_loadu_si128((const __m128i *)alt_ccm_mac_input(job[j], t, decrypt));
            x[j] = _mm_xor_si128(_mm_xor_si128(x[j], m), rk[j][0]);
            __m128i n = _mm_set_epi64x((long long)__builtin_bswap64(alt_ccm_counter(job[j], t)), 0);
            c[j] = _mm_xor_si128(_mm_xor_si128(a0[j], n), rk[j][0]);
        }
        _Pragma("GCC unroll 16")
        for (int r = 1; r < ALT_AES128_ROUNDS; r++)
            _Pragma("GCC unroll 16")
            for (int j = 0; j < LANES; j++) {
                x[j] = _mm_aesenc_si128(x[j], rk[j][r]);
                c[j] = _mm_aesenc_si128(c[j], rk[j][r]);
            }
        _Pragma("GCC unroll 16")
        for (int j = 0; j < LANES; j++) {
            x[j] = _mm_aesenclast_si128(x[j], rk[j][ALT_AES128_ROUNDS]);
            c[j] = _mm_aesenclast_si128(c[j], rk[j][ALT_AES128_ROUNDS]);
        }
        _Pragma("GCC unroll 16")
        for (int j = 0; j < LANES; j++) {
            alt_ccm_job *jb = job[j];
            if (t >= jb->steps)
                continue;
            if (t < jb->full_blocks) {
                __m128i in = _mm_loadu_si128((const __m128i *)(jb->in + 16 * t));
                _mm_storeu_si128((__m128i *)(jb->out + 16 * t), _mm_xor_si128(in, c[j]));
            } else {
                _Alignas(16) uint8_t ks[16];
                _mm_store_si128((__m128i *)ks, c[j]);
                alt_ccm_take_keystream(jb, t, ks, decrypt);
            }
            if (t == jb->mac_steps - 1)
                _mm_store_si128((__m128i *)jb->mac, x[j]);
        }
    }
    _Pragma("GCC unroll 16")
    for (int j = 0; j < LANES; j++)
        alt_ccm_finish(job[j], decrypt);
}

void alt_aes_aesni_ccm(alt_ccm_job *jobs, size_t n, bool decrypt)
{
    alt_ccm_job idle;
    memset(&idle, 0, sizeof idle);
    idle.key = alt_ccm_zero_block;
    for (size_t i = 0; i < n; i += LANES) {
        alt_ccm_job *group[LANES];
        for (size_t j = 0; j < LANES; j++)
            group[j] = i + j < n ? &jobs[i + j] : &idle;
        ccm_group(group, decrypt);
    }
}

#define UK_NAME aesni_ccm_uniform
#define UK_VEC __m128i
#define UK_W 1
#define UK_NVEC 6
#define UK_GATHER(p) _mm_loadu_si128((const __m128i *)(p)[0])
#define UK_FROM(b) ((b)[0])
#define UK_LANE(v, h) (v)
#define UK_BCAST(x) (x)
#define UK_XOR _mm_xor_si128
#define UK_AND _mm_and_si128
#define UK_ENC _mm_aesenc_si128
#define UK_ENCLAST _mm_aesenclast_si128
#define UK_KEYSTEP alt_aes_x86_keystep
#define UK_ZERO _mm_setzero_si128
#include "x86/ccm_x86_uniform_kernel.inc"

const alt_aes_impl alt_aes_impl_aesni = {
    "aes-ni", alt_aes_aesni_expand, aesni_ecb, alt_aes_aesni_mmo, alt_aes_aesni_ccm, aesni_ccm_uniform,
};
