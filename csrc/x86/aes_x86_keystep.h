/* The AES-128 key schedule step without AESKEYGENASSIST: broadcast RotWord(w3) to all four columns (where
 * ShiftRows is then a no-op), and AESENCLAST against the broadcast round constant yields
 * SubWord(RotWord(w3)) ^ rcon in every column; a two-step prefix XOR gives the rest. Shorter latency than
 * AESKEYGENASSIST on current cores, which matters when the key changes every block (AES-MMO, CCM with a key
 * per frame). Needs -maes -mssse3; included by the aesni and vaes files. */
#ifndef ALT_AES_X86_KEYSTEP_H
#define ALT_AES_X86_KEYSTEP_H

#include <immintrin.h>

#define ALT_AES_ROTWORD_BROADCAST \
    _mm_set_epi8(12, 15, 14, 13, 12, 15, 14, 13, 12, 15, 14, 13, 12, 15, 14, 13)

static inline __m128i alt_aes_x86_keystep(__m128i k, int rcon)
{
    __m128i s = _mm_aesenclast_si128(_mm_shuffle_epi8(k, ALT_AES_ROTWORD_BROADCAST), _mm_set1_epi32(rcon));
    __m128i t = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    t = _mm_xor_si128(t, _mm_slli_si128(t, 8));
    return _mm_xor_si128(t, s);
}

/* Round constants as immediates, so an unrolled schedule needs no table. */
#define ALT_AES_FOR_EACH_ROUND(X) X(1, 0x01) X(2, 0x02) X(3, 0x04) X(4, 0x08) X(5, 0x10) \
    X(6, 0x20) X(7, 0x40) X(8, 0x80) X(9, 0x1b) X(10, 0x36)

#endif
