/* Identifier text on AVX2: the common shapes of each identifier (grouped EUI-64s, "0x" versions, 13-digit
 * MPAN cores) checked and decoded with byte compares, shuffles and multiply-adds, one value per step. A value is taken on the fast path only
 * when it is present, has exactly the fast shape's length and passes every check there, in which case the
 * row parser (idtext_rows.h) would return ALT_ID_OK with the same value and canonical flag; anything else,
 * valid or not, goes through the row parser. Loads stay inside the value: no byte past its end is read. */
#include <immintrin.h>

#include "compiler.h"
#include "idtext_rows.h"

#define Z 0x80   /* pshufb index that writes a zero byte */

/* Hex digit bytes -> nibbles (right in hex digit lanes only). *bad: lanes (bitmask) that are not hex digits;
 * *lower: lanes that are 'a'..'f'. Unsigned min against a bound tests a range with few constants. */
static inline __m128i hex_nibbles(__m128i c, unsigned *bad, unsigned *lower)
{
    const __m128i d = _mm_sub_epi8(c, _mm_set1_epi8('0'));
    const __m128i l = _mm_sub_epi8(_mm_or_si128(c, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    const unsigned digit = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    const unsigned letter = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(5)), l));
    *bad = ~(digit | letter) & 0xFFFF;
    *lower = letter & (unsigned)_mm_movemask_epi8(_mm_slli_epi16(c, 2));   /* bit 5: lower case */
    /* a digit's d is below a letter's l + 10 and the other way round */
    return _mm_min_epu8(d, _mm_add_epi8(l, _mm_set1_epi8(10)));
}

/* Nibble pairs (high first) -> bytes, in the low 8 bytes. */
static inline __m128i pack_nibbles(__m128i nibbles)
{
    const __m128i pairs = _mm_maddubs_epi16(nibbles, _mm_set1_epi16(0x0110));   /* bytes 16, 1 */
    return _mm_packus_epi16(pairs, pairs);
}

/* The same on 32 bytes; *hex: the lanes that are hex digits. */
static inline __m256i hex_nibbles256(__m256i c, uint32_t *hex, uint32_t *lower)
{
    const __m256i d = _mm256_sub_epi8(c, _mm256_set1_epi8('0'));
    const __m256i l = _mm256_sub_epi8(_mm256_or_si256(c, _mm256_set1_epi8(0x20)), _mm256_set1_epi8('a'));
    const __m256i digit = _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d);
    const __m256i letter = _mm256_cmpeq_epi8(_mm256_min_epu8(l, _mm256_set1_epi8(5)), l);
    *hex = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(digit, letter));
    *lower = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(letter, _mm256_slli_epi16(c, 2)));
    return _mm256_min_epu8(d, _mm256_add_epi8(l, _mm256_set1_epi8(10)));
}

/* The column loop of every parse: runs of values the fast shape takes in a tight loop (`fast` returns false
 * for anything it does not fully check), any other value through the row parser, out of line. The column is
 * copied and the count kept in a local: stores through the uint8_t state pointer could alias them otherwise.
 */
#define FAST_PARSE_LOOP(col_arg, value, state, counts_arg, length, fast, slow_one)                       \
    do {                                                                                                 \
        const alt_text_column c_ = *(col_arg);                                                           \
        size_t noncanonical_ = 0;                                                                        \
        for (size_t i = 0; i < c_.n; i++) {                                                              \
            for (; i < c_.n; i++) {                                                                      \
                const int32_t start = c_.offsets[i];                                                     \
                bool canonical;                                                                          \
                if (c_.offsets[i + 1] - start != (length) || !alt_id_present(&c_, i)                     \
                    || !fast(c_.data + start, &(value)[i], &canonical))                                  \
                    break;                                                                               \
                (state)[i] = ALT_ID_OK;                                                                  \
                noncanonical_ += !canonical;                                                             \
            }                                                                                            \
            if (i < c_.n)                                                                                \
                slow_one(&c_, i, value, state, counts_arg);                                              \
        }                                                                                                \
        (counts_arg)->noncanonical += noncanonical_;                                                     \
    } while (0)

/* ---- EUI-64 "HH?HH?HH?HH?HH?HH?HH?HH", one separator kind from '-', ':', ' ' ---- */

/* The value is read as bytes 0..15 (low lane) and 7..22 (high lane): byte j is a separator when j % 3 == 2,
 * i.e. low lanes 2, 5, .., 14 and high lanes 1, 4, .., 13; the other lanes are digits. */
#define EUI64_SEP_LANES 0x24924924u
#define EUI64_DIGIT_LANES 0xDB6DB6DBu

static inline bool eui64_grouped(const uint8_t *p, uint64_t *v, bool *canonical)
{
    const uint8_t sep = p[2];
    if (sep != '-' && sep != ':' && sep != ' ')
        return false;
    const __m256i text = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p)),
                                                 _mm_loadu_si128((const __m128i *)(p + 7)), 1);
    uint32_t hex, lower;
    const __m256i nibbles = hex_nibbles256(text, &hex, &lower);
    const uint32_t seps = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(text, _mm256_set1_epi8((char)sep)));
    if ((hex & EUI64_DIGIT_LANES) != EUI64_DIGIT_LANES || (seps & EUI64_SEP_LANES) != EUI64_SEP_LANES)
        return false;
    /* octets 0..4 from the low lane's digits, 5..7 from the high lane's bytes 15..22 */
    const __m256i pairs = _mm256_maddubs_epi16(
        _mm256_shuffle_epi8(nibbles, _mm256_setr_epi8(0, 1, 3, 4, 6, 7, 9, 10, 12, 13, Z, Z, Z, Z, Z, Z,
                                                      8, 9, 11, 12, 14, 15, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z)),
        _mm256_set1_epi16(0x0110));
    const __m256i octets = _mm256_packus_epi16(pairs, pairs);
    const uint64_t first = (uint64_t)_mm_cvtsi128_si64(_mm256_castsi256_si128(octets));
    const uint64_t last = (uint64_t)_mm_cvtsi128_si64(_mm256_extracti128_si256(octets, 1));
    *v = __builtin_bswap64((first & 0xFFFFFFFFFFull) | last << 40);
    *canonical = sep == '-' && !(lower & EUI64_DIGIT_LANES);
    return true;
}

ALT_NOINLINE static void eui64_slow(const alt_text_column *col, size_t i, uint64_t *value,
                                                uint8_t *state, alt_id_counts *counts)
{
    ALT_ID_PARSE_ONE(col, i, value, state, counts, alt_id_eui64_row);
}

static void eui64_avx2(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *counts)
{
    FAST_PARSE_LOOP(col, value, state, counts, ALT_EUI64_TEXT, eui64_grouped, eui64_slow);
}

/* ---- firmware version "0xHHHHHHHH" ---- */

static inline bool hex32_prefixed(const uint8_t *p, uint32_t *v, bool *canonical)
{
    if (p[0] != '0' || (p[1] | 0x20) != 'x')
        return false;
    unsigned bad, lower;
    const __m128i nibbles = hex_nibbles(_mm_loadl_epi64((const __m128i *)(p + 2)), &bad, &lower);
    if (bad & 0xFF)
        return false;
    *v = __builtin_bswap32((uint32_t)_mm_cvtsi128_si32(pack_nibbles(nibbles)));
    *canonical = p[1] == 'x' && !(lower & 0xFF);
    return true;
}

ALT_NOINLINE static void hex32_slow(const alt_text_column *col, size_t i, uint32_t *value,
                                                uint8_t *state, alt_id_counts *counts)
{
    ALT_ID_PARSE_ONE(col, i, value, state, counts, alt_id_hex32_row);
}

static void hex32_avx2(const alt_text_column *col, uint32_t *value, uint8_t *state, alt_id_counts *counts)
{
    FAST_PARSE_LOOP(col, value, state, counts, ALT_HEX32_TEXT, hex32_prefixed, hex32_slow);
}

/* ---- MPAN core: 13 digits, the last one the check digit ---- */

static inline bool mpan_core(const uint8_t *p, uint64_t *v, bool *canonical)
{
    /* bytes 0..7 and 5..12, then the 13 digits right-aligned in 16 lanes behind three '0's */
    const __m128i both = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)p),
                                            _mm_loadl_epi64((const __m128i *)(p + 5)));
    const __m128i text =
        _mm_shuffle_epi8(both, _mm_setr_epi8(Z, Z, Z, 0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15));
    const __m128i digits = _mm_sub_epi8(text, _mm_setr_epi8(0, 0, 0, '0', '0', '0', '0', '0', '0', '0', '0', '0',
                                                            '0', '0', '0', '0'));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(digits, _mm_set1_epi8(9)), digits)) != 0xFFFF)
        return false;
    /* check digit: the MRA weights (idtext.c) on the first twelve digits */
    __m128i sum = _mm_madd_epi16(
        _mm_maddubs_epi16(digits, _mm_setr_epi8(0, 0, 0, 3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43, 0)),
        _mm_set1_epi16(1));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4E));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xB1));
    if ((unsigned)_mm_cvtsi128_si32(sum) % 11 % 10 != (unsigned)(p[12] - '0'))
        return false;
    /* digits -> 2-digit -> 4-digit -> two 8-digit numbers */
    const __m128i d2 = _mm_maddubs_epi16(digits, _mm_set1_epi16(0x010A));   /* bytes 10, 1 */
    const __m128i d4 = _mm_madd_epi16(d2, _mm_set1_epi32(0x00010064));      /* words 100, 1 */
    const __m128i d8 = _mm_madd_epi16(_mm_packus_epi32(d4, d4), _mm_set1_epi32(0x00012710));   /* 10000, 1 */
    *v = (uint64_t)(uint32_t)_mm_cvtsi128_si32(d8) * 100000000u
       + (uint32_t)_mm_extract_epi32(d8, 1);
    *canonical = true;
    return true;
}

ALT_NOINLINE static void mpan_slow(const alt_text_column *col, size_t i, uint64_t *value,
                                                uint8_t *state, alt_id_counts *counts)
{
    ALT_ID_PARSE_ONE(col, i, value, state, counts, alt_id_mpan_row);
}

static void mpan_avx2(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *counts)
{
    FAST_PARSE_LOOP(col, value, state, counts, ALT_MPAN_CORE, mpan_core, mpan_slow);
}

/* ---- formatting ---- */

/* The 8 bytes of x, in memory order, as 16 upper-case hex digits. */
static inline __m128i hex_text(uint64_t x)
{
    const __m128i bytes = _mm_cvtsi64_si128((long long)x);
    const __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi8(0x0F));
    const __m128i low = _mm_and_si128(bytes, _mm_set1_epi8(0x0F));
    const __m128i upper_hex =
        _mm_setr_epi8('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C', 'D', 'E', 'F');
    return _mm_shuffle_epi8(upper_hex, _mm_unpacklo_epi8(high, low));
}

static void format_eui64_avx2(const uint64_t *value, size_t n, uint8_t *out)
{
    /* the 23 bytes are stored as bytes 0..15 and 7..22 (never past the value); separators are OR-ed into
     * the lanes the shuffles zero */
    const __m128i head = _mm_setr_epi8(0, 1, Z, 2, 3, Z, 4, 5, Z, 6, 7, Z, 8, 9, Z, 10);
    const __m128i head_seps = _mm_setr_epi8(0, 0, '-', 0, 0, '-', 0, 0, '-', 0, 0, '-', 0, 0, '-', 0);
    const __m128i tail = _mm_setr_epi8(5, Z, 6, 7, Z, 8, 9, Z, 10, 11, Z, 12, 13, Z, 14, 15);
    const __m128i tail_seps = _mm_setr_epi8(0, '-', 0, 0, '-', 0, 0, '-', 0, 0, '-', 0, 0, '-', 0, 0);
    for (size_t i = 0; i < n; i++, out += ALT_EUI64_TEXT) {
        const __m128i digits = hex_text(__builtin_bswap64(value[i]));
        _mm_storeu_si128((__m128i *)out, _mm_or_si128(_mm_shuffle_epi8(digits, head), head_seps));
        _mm_storeu_si128((__m128i *)(out + 7), _mm_or_si128(_mm_shuffle_epi8(digits, tail), tail_seps));
    }
}

static void format_hex32_avx2(const uint32_t *value, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++, out += ALT_HEX32_TEXT) {
        out[0] = '0';
        out[1] = 'x';
        _mm_storel_epi64((__m128i *)(out + 2), hex_text(__builtin_bswap32(value[i])));
    }
}

const alt_idtext_kernel alt_idtext_kernel_avx2 = {
    eui64_avx2, hex32_avx2, mpan_avx2, format_eui64_avx2, format_hex32_avx2,
};
