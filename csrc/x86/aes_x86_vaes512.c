/* VAES on 512-bit registers (AVX-512F/BW/VL): four AES blocks per instruction. ECB runs thirty-two blocks at
 * a time; uniform CCM* batches run sixteen frames in lock step, four in the 128-bit lanes of each of four
 * registers, key schedules made four at a time, so that the four MAC chains of a step are 16 blocks in
 * flight, enough to cover the AESENC latency even in the steps that have no keystream block. AVX-512's 32
 * registers hold what the 256-bit kernel spills, and byte-masked stores write a partial last block and the
 * MIC without a library call. Single key schedules, AES-MMO and CCM* frames of mixed shapes use the AES-NI
 * code, as the 256-bit tier does. */
#include <immintrin.h>

#include "aes_impl.h"
#include "x86/aes_x86_keystep.h"

static inline __m512i keystep4(__m512i k, int rcon)
{
    const __m512i rot = _mm512_broadcast_i32x4(ALT_AES_ROTWORD_BROADCAST);
    __m512i s = _mm512_aesenclast_epi128(_mm512_shuffle_epi8(k, rot), _mm512_set1_epi32(rcon));
    __m512i t = _mm512_xor_si512(k, _mm512_bslli_epi128(k, 4));
    t = _mm512_xor_si512(t, _mm512_bslli_epi128(t, 8));
    return _mm512_xor_si512(t, s);
}

/* Four 16-byte blocks, p[0] into the lowest lane. */
static inline __m512i load4(const uint8_t *const *p)
{
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p[0]));
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)p[1]), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)p[2]), 2);
    return _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)p[3]), 3);
}

static inline __m512i from4(const __m128i *b)
{
    __m512i v = _mm512_castsi128_si512(b[0]);
    v = _mm512_inserti32x4(v, b[1], 1);
    v = _mm512_inserti32x4(v, b[2], 2);
    return _mm512_inserti32x4(v, b[3], 3);
}

/* Lane h (a constant once the kernel's loops are unrolled; every branch has an immediate lane number). */
#define LANE4(v, h) ((h) == 0 ? _mm512_castsi512_si128(v) : (h) == 1 ? _mm512_extracti32x4_epi32((v), 1) : \
                     (h) == 2 ? _mm512_extracti32x4_epi32((v), 2) : _mm512_extracti32x4_epi32((v), 3))

static void vaes512_ecb(const alt_aes128_key *ks, const uint8_t *in, uint8_t *out, size_t nblocks)
{
    __m512i rk[ALT_AES128_ROUNDS + 1];
    _Pragma("GCC unroll 16")
    for (int r = 0; r <= ALT_AES128_ROUNDS; r++)
        rk[r] = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)ks->rk[r]));
    size_t i = 0;
    for (; i + 32 <= nblocks; i += 32) {
        __m512i b[8];
        _Pragma("GCC unroll 16")
        for (int j = 0; j < 8; j++)
            b[j] = _mm512_xor_si512(_mm512_loadu_si512((const void *)(in + 16 * i + 64 * j)), rk[0]);
        _Pragma("GCC unroll 16")
        for (int r = 1; r < ALT_AES128_ROUNDS; r++)
            _Pragma("GCC unroll 16")
            for (int j = 0; j < 8; j++)
                b[j] = _mm512_aesenc_epi128(b[j], rk[r]);
        _Pragma("GCC unroll 16")
        for (int j = 0; j < 8; j++)
            _mm512_storeu_si512((void *)(out + 16 * i + 64 * j),
                                _mm512_aesenclast_epi128(b[j], rk[ALT_AES128_ROUNDS]));
    }
    /* the rest, four blocks a register and the last one to three under a mask */
    for (; i < nblocks; i += 4) {
        size_t k = nblocks - i < 4 ? nblocks - i : 4;
        __mmask64 m = k == 4 ? ~(__mmask64)0 : ((__mmask64)1 << (16 * k)) - 1;
        __m512i b = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, in + 16 * i), rk[0]);
        _Pragma("GCC unroll 16")
        for (int r = 1; r < ALT_AES128_ROUNDS; r++)
            b = _mm512_aesenc_epi128(b, rk[r]);
        _mm512_mask_storeu_epi8(out + 16 * i, m, _mm512_aesenclast_epi128(b, rk[ALT_AES128_ROUNDS]));
    }
}

/* The kernel four times: sixteen frames a group, then eight and four for what is left of the batch, which
 * would otherwise go to the mixed-shape kernel at a fraction of the speed (a batch of 256 frames leaves up to
 * fifteen), and four at a time with masked loads for the fields shorter than a block, for the frames at the
 * end of the caller's buffers that the others must leave out (they may read 16 bytes from any field). */
#define UK_VEC __m512i
#define UK_W 4
#define UK_GATHER(p) load4(p)
#define UK_FROM(b) from4(b)
#define UK_LANE(v, h) LANE4(v, h)
#define UK_BCAST(x) _mm512_broadcast_i32x4(x)
#define UK_XOR _mm512_xor_si512
#define UK_AND _mm512_and_si512
#define UK_ENC _mm512_aesenc_epi128
#define UK_ENCLAST _mm512_aesenclast_epi128
#define UK_KEYSTEP keystep4
#define UK_ZERO _mm512_setzero_si512
#define UK_WIDE_REGISTERS
#define PARTIAL_STORE(dst, v, n) _mm_mask_storeu_epi8((dst), (__mmask16)((1u << (n)) - 1), (v))
/* Masked loads read no byte outside the field (and fault on none), so every frame of a batch runs here. */
#define PARTIAL_LOAD(src, n) _mm_maskz_loadu_epi8((__mmask16)((1u << (n)) - 1), (src))

#define UK_NAME uniform16
#define UK_NVEC 4
#define UK_STORE_PARTIAL PARTIAL_STORE
#include "x86/ccm_x86_uniform_kernel.inc"
#undef UK_NAME
#undef UK_NVEC

#define UK_NAME uniform8
#define UK_NVEC 2
#define UK_STORE_PARTIAL PARTIAL_STORE
#include "x86/ccm_x86_uniform_kernel.inc"
#undef UK_NAME
#undef UK_NVEC

#define UK_NAME uniform4
#define UK_NVEC 1
#define UK_STORE_PARTIAL PARTIAL_STORE
#include "x86/ccm_x86_uniform_kernel.inc"
#undef UK_NAME

/* The last frames of a batch, whose 16-byte loads could read past the caller's buffers: masked loads. Only
 * for them: the masked loads cost more than plain ones (measured: a quarter more time a frame on Zen 4 when
 * used for every frame). */
#define UK_NAME uniform4_masked
#define UK_STORE_PARTIAL PARTIAL_STORE
#define UK_LOAD_PARTIAL PARTIAL_LOAD
#include "x86/ccm_x86_uniform_kernel.inc"

/* The same batch from frame k on. */
static alt_ccm_uniform from_frame(const alt_ccm_uniform *u, size_t k)
{
    alt_ccm_uniform rest = *u;
    if (rest.key_index)
        rest.key_index += k;
    else
        rest.keys += 16 * k * rest.key_step;
    rest.nonces += k * rest.nonce_len;
    if (rest.aad)
        rest.aad += k * rest.aad_len;
    rest.in += k * rest.in_stride;
    rest.out += k * rest.out_stride;
    rest.ok += k;
    rest.n -= k;
    rest.safe = rest.safe > k ? rest.safe - k : 0;
    return rest;
}

static size_t vaes512_ccm_uniform(const alt_ccm_uniform *u, bool decrypt)
{
    size_t done = uniform16(u, decrypt);
    if (u->safe - done >= 8) {
        alt_ccm_uniform rest = from_frame(u, done);
        done += uniform8(&rest, decrypt);
    }
    if (u->safe - done >= 4) {
        alt_ccm_uniform rest = from_frame(u, done);
        done += uniform4(&rest, decrypt);
    }
    if (u->n - done >= 4) {
        alt_ccm_uniform rest = from_frame(u, done);
        done += uniform4_masked(&rest, decrypt);
    }
    return done;
}

const alt_aes_impl alt_aes_impl_vaes512 = {
    "vaes-avx512", alt_aes_aesni_expand, vaes512_ecb, alt_aes_aesni_mmo, alt_aes_aesni_ccm, vaes512_ccm_uniform,
};
