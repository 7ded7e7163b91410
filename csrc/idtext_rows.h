/* Shared by the idtext tiers (csrc/idtext.c, csrc/x86/idtext_x86_*.c): one value at a time, the reference
 * every faster column loop falls back to for values off its fast shape. Not part of the public API. */
#ifndef ALT_IDTEXT_ROWS_H
#define ALT_IDTEXT_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "idtext.h"

typedef struct alt_idtext_kernel {
    void (*eui64)(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *counts);
    void (*hex32)(const alt_text_column *col, uint32_t *value, uint8_t *state, alt_id_counts *counts);
    void (*mpan)(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *counts);
    void (*format_eui64)(const uint64_t *value, size_t n, uint8_t *out);
    void (*format_hex32)(const uint32_t *value, size_t n, uint8_t *out);
} alt_idtext_kernel;

extern const alt_idtext_kernel alt_idtext_kernel_portable;
extern const alt_idtext_kernel alt_idtext_kernel_avx2;

/* A hex digit's value in the low nibble, with 0x40 set for 'a'..'f'; 0xFF for any other byte. Upper-case hex
 * digits, by value. Hidden (compiler.h says why). */
extern ALT_HIDDEN const uint8_t alt_id_hex_value[256];
extern ALT_HIDDEN const uint8_t alt_id_upper_hex[16];

enum { ALT_EUI64_TEXT = 23, ALT_HEX32_TEXT = 10, ALT_MPAN_CORE = 13, ALT_MPAN_FULL = 21 };

static inline bool alt_id_present(const alt_text_column *col, size_t i)
{
    if (!col->validity)
        return true;
    uint64_t bit = (uint64_t)col->validity_offset + i;
    return (col->validity[bit >> 3] >> (bit & 7)) & 1;
}

static inline bool alt_id_ascii_space(uint8_t c) { return c == ' ' || (c >= 0x09 && c <= 0x0D); }

/* Only the caller's full Unicode rules know whether these bytes at an end are white space. */
static inline bool alt_id_unsure_edge(uint8_t c) { return c < 0x20 || c >= 0x7F; }

/* Value i with ASCII white space trimmed: ALT_ID_OK with *p, *len (and *trimmed when bytes were cut),
 * ALT_ID_ABSENT or ALT_ID_DEFER. */
static inline int alt_id_value(const alt_text_column *col, size_t i, const uint8_t **p, size_t *len,
                               bool *trimmed)
{
    if (!alt_id_present(col, i))
        return ALT_ID_ABSENT;
    const uint8_t *s = col->data + col->offsets[i];
    const uint8_t *e = col->data + col->offsets[i + 1];
    const uint8_t *s0 = s, *e0 = e;
    while (s < e && alt_id_ascii_space(*s))
        s++;
    while (e > s && alt_id_ascii_space(e[-1]))
        e--;
    if (s == e)
        return ALT_ID_ABSENT;
    if (alt_id_unsure_edge(*s) || alt_id_unsure_edge(e[-1]))
        return ALT_ID_DEFER;
    *p = s;
    *len = (size_t)(e - s);
    *trimmed = s != s0 || e != e0;
    return ALT_ID_OK;
}

/* n hex digits at p into *v (either case); false on a non-hex byte. *upper: all letters upper case. */
static inline bool alt_id_hex_digits(const uint8_t *p, size_t n, uint64_t *v, bool *upper)
{
    uint64_t x = 0;
    uint8_t seen = 0;   /* every digit's table bits: 0x10 from a non-hex byte, 0x40 from a lower-case one */
    for (size_t k = 0; k < n; k++) {
        uint8_t d = alt_id_hex_value[p[k]];
        seen |= d;
        x = (x << 4) | (d & 0x0F);
    }
    *v = x;
    *upper = !(seen & 0x40);
    return !(seen & 0x10);
}

static inline int alt_id_eui64_row(const uint8_t *p, size_t len, uint64_t *v, bool *canonical)
{
    bool upper;
    *canonical = false;
    if (len == 16)
        return alt_id_hex_digits(p, 16, v, &upper) ? ALT_ID_OK : ALT_ID_MALFORMED;
    if (len == 18)
        return p[0] == '0' && (p[1] | 0x20) == 'x' && alt_id_hex_digits(p + 2, 16, v, &upper)
            ? ALT_ID_OK : ALT_ID_MALFORMED;
    if (len != ALT_EUI64_TEXT)
        return ALT_ID_MALFORMED;
    uint8_t sep = p[2];
    if (sep != '-' && sep != ':' && sep != ' ')
        return ALT_ID_MALFORMED;
    uint64_t x = 0;
    bool all_upper = true;
    for (int g = 0; g < 8; g++) {
        uint64_t octet;
        if ((g < 7 && p[3 * g + 2] != sep) || !alt_id_hex_digits(p + 3 * g, 2, &octet, &upper))
            return ALT_ID_MALFORMED;
        all_upper &= upper;
        x = (x << 8) | octet;
    }
    *v = x;
    *canonical = sep == '-' && all_upper;
    return ALT_ID_OK;
}

static inline int alt_id_hex32_row(const uint8_t *p, size_t len, uint32_t *v, bool *canonical)
{
    bool upper;
    uint64_t x;
    *canonical = false;
    if (len == ALT_HEX32_TEXT) {
        if (p[0] != '0' || (p[1] | 0x20) != 'x' || !alt_id_hex_digits(p + 2, 8, &x, &upper))
            return ALT_ID_MALFORMED;
        *canonical = p[1] == 'x' && upper;
    } else if (len != 8 || !alt_id_hex_digits(p, 8, &x, &upper)) {
        return ALT_ID_MALFORMED;
    }
    *v = (uint32_t)x;
    return ALT_ID_OK;
}

static inline bool alt_id_all_digits(const uint8_t *p, size_t n)
{
    uint8_t bad = 0;
    for (size_t k = 0; k < n; k++)
        bad |= (uint8_t)(p[k] - '0') > 9;
    return !bad;
}

static inline int alt_id_mpan_row(const uint8_t *p, size_t len, uint64_t *v, bool *canonical)
{
    *canonical = len == ALT_MPAN_CORE;
    if ((len != ALT_MPAN_CORE && len != ALT_MPAN_FULL) || !alt_id_all_digits(p, len))
        return ALT_ID_MALFORMED;
    const uint8_t *core = p + len - ALT_MPAN_CORE;
    uint8_t digits[12];
    uint64_t x = 0;
    for (int k = 0; k < 12; k++) {
        digits[k] = (uint8_t)(core[k] - '0');
        x = x * 10 + digits[k];
    }
    if (alt_id_mpan_check_digit(digits) != (unsigned)(core[12] - '0'))
        return ALT_ID_MALFORMED;
    *v = x * 10 + (uint64_t)(core[12] - '0');
    return ALT_ID_OK;
}

/* One value of a parse, as every tier does it: trim, call the row parser, count. Faster loops use this for
 * every value off their fast shape, so all tiers agree bit for bit. */
#define ALT_ID_PARSE_ONE(col, i, value, state, counts, row_fn)                                \
    do {                                                                                     \
        const uint8_t *p_;                                                                   \
        size_t len_;                                                                         \
        bool trimmed_ = false, canonical_ = false;                                           \
        int s_ = alt_id_value((col), (i), &p_, &len_, &trimmed_);                            \
        (value)[i] = 0;                                                                      \
        if (s_ == ALT_ID_OK)                                                                 \
            s_ = row_fn(p_, len_, &(value)[i], &canonical_);                                 \
        (state)[i] = (uint8_t)s_;                                                            \
        (counts)->absent += s_ == ALT_ID_ABSENT;                                             \
        (counts)->malformed += s_ == ALT_ID_MALFORMED;                                       \
        (counts)->deferred += s_ == ALT_ID_DEFER;                                            \
        (counts)->noncanonical += s_ == ALT_ID_OK && (trimmed_ || !canonical_);              \
        if (s_ != ALT_ID_OK)                                                                 \
            (value)[i] = 0;                                                                  \
    } while (0)

#endif
