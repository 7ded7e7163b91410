/* Identifier text: the portable tier, the public entry points and the tier table (see idtext.h). */
#include "idtext.h"

#include "alt_status.h"
#include "cpu.h"
#include "idtext_rows.h"
#include "tiers.h"

const uint8_t alt_id_hex_value[256] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
       0,    1,    2,    3,    4,    5,    6,    7,    8,    9, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF,   10,   11,   12,   13,   14,   15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};
const uint8_t alt_id_upper_hex[16] = "0123456789ABCDEF";

/* The MRA weights: the first twelve primes from 3, skipping 11. */
static const unsigned mpan_weights[12] = {3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43};

unsigned alt_id_mpan_check_digit(const uint8_t digits[12])
{
    unsigned sum = 0;
    for (int k = 0; k < 12; k++)
        sum += digits[k] * mpan_weights[k];
    return sum % 11 % 10;
}

/* ---- portable tier ---- */

static void eui64_portable(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *counts)
{
    for (size_t i = 0; i < col->n; i++)
        ALT_ID_PARSE_ONE(col, i, value, state, counts, alt_id_eui64_row);
}

static void hex32_portable(const alt_text_column *col, uint32_t *value, uint8_t *state, alt_id_counts *counts)
{
    for (size_t i = 0; i < col->n; i++)
        ALT_ID_PARSE_ONE(col, i, value, state, counts, alt_id_hex32_row);
}

static void mpan_portable(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *counts)
{
    for (size_t i = 0; i < col->n; i++)
        ALT_ID_PARSE_ONE(col, i, value, state, counts, alt_id_mpan_row);
}

static void format_eui64_portable(const uint64_t *value, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++, out += ALT_EUI64_TEXT) {
        uint64_t v = value[i];
        for (int g = 0; g < 8; g++) {
            unsigned octet = (unsigned)(v >> (56 - 8 * g)) & 0xFF;
            out[3 * g] = alt_id_upper_hex[octet >> 4];
            out[3 * g + 1] = alt_id_upper_hex[octet & 0x0F];
            if (g < 7)
                out[3 * g + 2] = '-';
        }
    }
}

static void format_hex32_portable(const uint32_t *value, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++, out += ALT_HEX32_TEXT) {
        out[0] = '0';
        out[1] = 'x';
        for (int k = 0; k < 8; k++)
            out[2 + k] = alt_id_upper_hex[(value[i] >> (28 - 4 * k)) & 0x0F];
    }
}

const alt_idtext_kernel alt_idtext_kernel_portable = {
    eui64_portable, hex32_portable, mpan_portable, format_eui64_portable, format_hex32_portable,
};

/* ---- tiers ---- */

void alt_idtext_list_tiers(alt_tier_list *tiers)
{
    alt_tiers_add(tiers, "portable", &alt_idtext_kernel_portable);
#if defined(ALT_X86_TIERS)
    if (alt_cpu_detect()->avx2)
        alt_tiers_add(tiers, "avx2", &alt_idtext_kernel_avx2);
#endif
}

static const alt_idtext_kernel *kernel(void) { return alt_tiers_active(ALT_FAMILY_IDTEXT); }

/* ---- public entry points ---- */

static int column_ok(const alt_text_column *col)
{
    return col && col->offsets && (col->data || col->n == 0 || col->offsets[col->n] == col->offsets[0]);
}

static void clear(alt_id_counts *counts) { *counts = (alt_id_counts){0}; }

int alt_id_parse_eui64(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *counts)
{
    if (!column_ok(col) || (col->n && (!value || !state)) || !counts)
        return ALT_EINVAL;
    clear(counts);
    kernel()->eui64(col, value, state, counts);
    return ALT_OK;
}

int alt_id_parse_hex32(const alt_text_column *col, uint32_t *value, uint8_t *state, alt_id_counts *counts)
{
    if (!column_ok(col) || (col->n && (!value || !state)) || !counts)
        return ALT_EINVAL;
    clear(counts);
    kernel()->hex32(col, value, state, counts);
    return ALT_OK;
}

int alt_id_parse_mpan(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *counts)
{
    if (!column_ok(col) || (col->n && (!value || !state)) || !counts)
        return ALT_EINVAL;
    clear(counts);
    kernel()->mpan(col, value, state, counts);
    return ALT_OK;
}

int alt_id_check_digits(const alt_text_column *col, unsigned min_len, unsigned max_len, uint8_t *state,
                        alt_id_counts *counts)
{
    if (!column_ok(col) || (col->n && !state) || !counts || min_len == 0 || min_len > max_len)
        return ALT_EINVAL;
    clear(counts);
    for (size_t i = 0; i < col->n; i++) {
        const uint8_t *p;
        size_t len;
        bool trimmed = false;
        int s = alt_id_value(col, i, &p, &len, &trimmed);
        if (s == ALT_ID_OK && (len < min_len || len > max_len || !alt_id_all_digits(p, len)))
            s = ALT_ID_MALFORMED;
        state[i] = (uint8_t)s;
        counts->absent += s == ALT_ID_ABSENT;
        counts->malformed += s == ALT_ID_MALFORMED;
        counts->deferred += s == ALT_ID_DEFER;
        counts->noncanonical += s == ALT_ID_OK && trimmed;
    }
    return ALT_OK;
}

int alt_id_format_eui64(const uint64_t *value, size_t n, uint8_t *out)
{
    if (n && (!value || !out))
        return ALT_EINVAL;
    kernel()->format_eui64(value, n, out);
    return ALT_OK;
}

int alt_id_format_hex32(const uint32_t *value, size_t n, uint8_t *out)
{
    if (n && (!value || !out))
        return ALT_EINVAL;
    kernel()->format_hex32(value, n, out);
    return ALT_OK;
}

/* "00" .. "99" */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* The low `count` (<= 8) decimal digits of x, ending at end: two digits per 32-bit division. */
static void put_digits(uint32_t x, uint8_t *end, unsigned count)
{
    for (; count >= 2; count -= 2, x /= 100) {
        end -= 2;
        end[0] = (uint8_t)digit_pairs[2 * (x % 100)];
        end[1] = (uint8_t)digit_pairs[2 * (x % 100) + 1];
    }
    if (count)
        end[-1] = (uint8_t)('0' + x % 10);
}

int alt_id_format_decimal(const uint64_t *value, size_t n, unsigned width, uint8_t *out)
{
    if ((n && (!value || !out)) || width == 0 || width > 20)
        return ALT_EINVAL;
    static const uint32_t below[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    for (size_t i = 0; i < n; i++, out += width) {
        uint64_t v = value[i];
        unsigned k = width;
        /* eight digits per 64-bit division, then 32-bit arithmetic */
        for (; k > 8; k -= 8, v /= 100000000u)
            put_digits((uint32_t)(v % 100000000u), out + k, 8);
        put_digits((uint32_t)(v % below[k]), out + k, k);
    }
    return ALT_OK;
}

int alt_text_scan(const alt_text_column *col, alt_text_scan_result *result)
{
    if (!column_ok(col) || !result)
        return ALT_EINVAL;
    *result = (alt_text_scan_result){0};
    for (size_t i = 0; i < col->n; i++) {
        if (!alt_id_present(col, i))
            continue;
        int32_t a = col->offsets[i], b = col->offsets[i + 1];
        result->present++;
        if (a == b) {
            result->empty++;
            continue;
        }
        uint8_t first = col->data[a], last = col->data[b - 1];
        result->edges += first <= 0x20 || first >= 0x7F || last <= 0x20 || last >= 0x7F;
    }
    return ALT_OK;
}
