/* VAES tier (256-bit, AVX2 encoding): two AES blocks per instruction. ECB runs sixteen blocks at a time;
 * uniform CCM* batches run eight frames in lock step, paired in the two halves of each register, key
 * schedules made two at a time. Single key schedules, the sequential AES-MMO and CCM* frames of mixed shapes
 * (where per-frame bookkeeping, not AES, is the cost) use the AES-NI code. */
#include <immintrin.h>

#include "aes_impl.h"
#include "x86/aes_x86_keystep.h"

static inline __m256i keystep2(__m256i k, int rcon)
{
    const __m256i rot = _mm256_broadcastsi128_si256(ALT_AES_ROTWORD_BROADCAST);
    __m256i s = _mm256_aesenclast_epi128(_mm256_shuffle_epi8(k, rot), _mm256_set1_epi32(rcon));
    __m256i t = _mm256_xor_si256(k, _mm256_slli_si256(k, 4));
    t = _mm256_xor_si256(t, _mm256_slli_si256(t, 8));
    return _mm256_xor_si256(t, s);
}

static inline __m256i load2(const uint8_t *lo, const uint8_t *hi)
{
    return _mm256_set_m128i(_mm_loadu_si128((const __m128i *)hi), _mm_loadu_si128((const __m128i *)lo));
}

static void vaes_ecb(const alt_aes128_key *ks, const uint8_t *in, uint8_t *out, size_t nblocks)
{
    __m256i rk[ALT_AES128_ROUNDS + 1];
    _Pragma("GCC unroll 16")
    for (int r = 0; r <= ALT_AES128_ROUNDS; r++)
        rk[r] = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)ks->rk[r]));
    size_t i = 0;
    for (; i + 16 <= nblocks; i += 16) {
        __m256i b[8];
        _Pragma("GCC unroll 16")
        for (int j = 0; j < 8; j++)
            b[j] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(in + 16 * i + 32 * j)), rk[0]);
        _Pragma("GCC unroll 16")
        for (int r = 1; r < ALT_AES128_ROUNDS; r++)
            _Pragma("GCC unroll 16")
            for (int j = 0; j < 8; j++)
                b[j] = _mm256_aesenc_epi128(b[j], rk[r]);
        _Pragma("GCC unroll 16")
        for (int j = 0; j < 8; j++)
            _mm256_storeu_si256((__m256i *)(out + 16 * i + 32 * j),
                                _mm256_aesenclast_epi128(b[j], rk[ALT_AES128_ROUNDS]));
    }
    const __m128i *rk1 = (const __m128i *)ks->rk;
    for (; i < nblocks; i++) {
        __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(in + 16 * i)), rk1[0]);
        _Pragma("GCC unroll 16")
        for (int r = 1; r < ALT_AES128_ROUNDS; r++)
            b = _mm_aesenc_si128(b, rk1[r]);
        _mm_storeu_si128((__m128i *)(out + 16 * i), _mm_aesenclast_si128(b, rk1[ALT_AES128_ROUNDS]));
    }
}

#define UK_NAME vaes_ccm_uniform
#define UK_VEC __m256i
#define UK_W 2
#define UK_NVEC 4
#define UK_GATHER(p) load2((p)[0], (p)[1])
#define UK_FROM(b) _mm256_set_m128i((b)[1], (b)[0])
#define UK_LANE(v, h) ((h) ? _mm256_extracti128_si256((v), 1) : _mm256_castsi256_si128(v))
#define UK_BCAST(x) _mm256_broadcastsi128_si256(x)
#define UK_XOR _mm256_xor_si256
#define UK_AND _mm256_and_si256
#define UK_ENC _mm256_aesenc_epi128
#define UK_ENCLAST _mm256_aesenclast_epi128
#define UK_KEYSTEP keystep2
#define UK_ZERO _mm256_setzero_si256
#include "x86/ccm_x86_uniform_kernel.inc"

const alt_aes_impl alt_aes_impl_vaes = {
    "vaes", alt_aes_aesni_expand, vaes_ecb, alt_aes_aesni_mmo, alt_aes_aesni_ccm, vaes_ccm_uniform,
};
