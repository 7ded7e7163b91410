/* VAES tier (256-bit, AVX2 encoding): two AES blocks per instruction. ECB runs sixteen blocks at a time;
 * CCM* runs eight frames in lock step, lanes paired in the two halves of each register, key schedules made
 * two at a time. Single key schedules and the sequential AES-MMO gain nothing from width and use AES-NI. */
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

#define LANES 8
#define PAIRS (LANES / 2)

/* As the AES-NI tier's ccm_group (see there and ccm_job.h), with lane 2p in the low and 2p+1 in the high
 * half of pair p. Every lane's key is expanded here, even a pre-expanded one (whose round key 0 is the key):
 * two schedules per instruction cost about what gathering the pre-expanded halves would. */
static void ccm_group(alt_ccm_job *const job[LANES], bool decrypt)
{
    __m256i rk[PAIRS][ALT_AES128_ROUNDS + 1];
    __m256i x[PAIRS], c[PAIRS], a0[PAIRS];
    size_t steps = 0;
    _Pragma("GCC unroll 16")
    for (int p = 0; p < PAIRS; p++) {
        rk[p][0] = load2(job[2 * p]->key, job[2 * p + 1]->key);
        a0[p] = load2(job[2 * p]->a0, job[2 * p + 1]->a0);
        x[p] = _mm256_setzero_si256();
    }
#define STEP(r, rc)                                     \
    for (int p = 0; p < PAIRS; p++)                     \
        rk[p][r] = keystep2(rk[p][r - 1], rc);
    ALT_AES_FOR_EACH_ROUND(STEP)
#undef STEP
    _Pragma("GCC unroll 16")
    for (int j = 0; j < LANES; j++)
        steps = job[j]->steps > steps ? job[j]->steps : steps;

    for (size_t t = 0; t < steps; t++) {
        _Pragma("GCC unroll 16")
        for (int p = 0; p < PAIRS; p++) {
            const alt_ccm_job *lo = job[2 * p], *hi = job[2 * p + 1];
            __m256i m = load2(alt_ccm_mac_input(lo, t, decrypt), alt_ccm_mac_input(hi, t, decrypt));
            x[p] = _mm256_xor_si256(_mm256_xor_si256(x[p], m), rk[p][0]);
            __m256i n = _mm256_set_epi64x((long long)__builtin_bswap64(alt_ccm_counter(hi, t)), 0,
                                          (long long)__builtin_bswap64(alt_ccm_counter(lo, t)), 0);
            c[p] = _mm256_xor_si256(_mm256_xor_si256(a0[p], n), rk[p][0]);
        }
        _Pragma("GCC unroll 16")
        for (int r = 1; r < ALT_AES128_ROUNDS; r++)
            _Pragma("GCC unroll 16")
            for (int p = 0; p < PAIRS; p++) {
                x[p] = _mm256_aesenc_epi128(x[p], rk[p][r]);
                c[p] = _mm256_aesenc_epi128(c[p], rk[p][r]);
            }
        _Pragma("GCC unroll 16")
        for (int p = 0; p < PAIRS; p++) {
            x[p] = _mm256_aesenclast_epi128(x[p], rk[p][ALT_AES128_ROUNDS]);
            c[p] = _mm256_aesenclast_epi128(c[p], rk[p][ALT_AES128_ROUNDS]);
        }
        _Pragma("GCC unroll 16")
        for (int j = 0; j < LANES; j++) {
            alt_ccm_job *jb = job[j];
            if (t >= jb->steps)
                continue;
            int p = j / 2;
            __m128i cj = (j & 1) ? _mm256_extracti128_si256(c[p], 1) : _mm256_castsi256_si128(c[p]);
            if (t < jb->full_blocks) {
                __m128i in = _mm_loadu_si128((const __m128i *)(jb->in + 16 * t));
                _mm_storeu_si128((__m128i *)(jb->out + 16 * t), _mm_xor_si128(in, cj));
            } else {
                _Alignas(16) uint8_t ks[16];
                _mm_store_si128((__m128i *)ks, cj);
                alt_ccm_take_keystream(jb, t, ks, decrypt);
            }
            if (t == jb->mac_steps - 1) {
                __m128i xj = (j & 1) ? _mm256_extracti128_si256(x[p], 1) : _mm256_castsi256_si128(x[p]);
                _mm_store_si128((__m128i *)jb->mac, xj);
            }
        }
    }
    _Pragma("GCC unroll 16")
    for (int j = 0; j < LANES; j++)
        alt_ccm_finish(job[j], decrypt);
}

static void vaes_ccm(alt_ccm_job *jobs, size_t n, bool decrypt)
{
    alt_ccm_job idle;
    memset(&idle, 0, sizeof idle);
    idle.key = alt_ccm_zero_block;
    for (size_t i = 0; i < n; i += LANES) {
        if (n - i < LANES / 2) {   /* a single frame, or a short tail: narrower groups waste less */
            alt_aes_impl_aesni.ccm(jobs + i, n - i, decrypt);
            break;
        }
        alt_ccm_job *group[LANES];
        for (size_t j = 0; j < LANES; j++)
            group[j] = i + j < n ? &jobs[i + j] : &idle;
        ccm_group(group, decrypt);
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
#include "x86/ccm_x86_uniform_kernel.h"

const alt_aes_impl alt_aes_impl_vaes = {
    "vaes", alt_aes_aesni_expand, vaes_ecb, alt_aes_aesni_mmo, vaes_ccm, vaes_ccm_uniform,
};
