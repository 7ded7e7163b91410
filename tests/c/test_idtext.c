/* Identifier text at the C level: hand-written cases (every accepted spelling, each kind of malformed value,
 * white space, nulls behind a validity bitmap with an offset, empty values, non-ASCII edges, MPAN check
 * digits incl. published examples) on every tier, each value also alone at the very end of an exactly sized
 * buffer; then every tier against the portable one on millions of mutated canonical values (one byte set to
 * each of the 256 values at each position, bytes dropped and added, padding) and on formatting. */
#include <stdlib.h>
#include <string.h>

#include "alt_status.h"
#include "idtext.h"
#include "tiers.h"

#include "check.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- columns ---- */

/* An Arrow-like string column over n values (NULL entries are nulls); the data buffer is allocated to its
 * exact size so that the sanitizer sees any read past the last value. Lengths are given so values may hold
 * NUL bytes. */
typedef struct column {
    alt_text_column col;
    uint8_t *data;
    int32_t *offsets;
    uint8_t *validity;
} column;

enum { VALIDITY_OFFSET = 5 };

static column column_of(const char *const *text, const size_t *len, size_t n)
{
    column c = {0};
    size_t total = 0, nulls = 0;
    for (size_t i = 0; i < n; i++) {
        total += text[i] ? len[i] : 0;
        nulls += !text[i];
    }
    c.data = malloc(total ? total : 1);
    c.offsets = malloc((n + 1) * sizeof *c.offsets);
    c.offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = text[i] ? len[i] : 0;
        memcpy(c.data + c.offsets[i], text[i] ? text[i] : "", l);
        c.offsets[i + 1] = c.offsets[i] + (int32_t)l;
    }
    if (nulls) {
        /* value 0 is bit VALIDITY_OFFSET: the bits before it are set to 0 and those after n to 1, so a
         * misplaced bit index shows */
        size_t bytes = (VALIDITY_OFFSET + n + 7) / 8 + 1;
        c.validity = calloc(bytes, 1);
        for (size_t b = VALIDITY_OFFSET + n; b < bytes * 8; b++)
            c.validity[b / 8] |= (uint8_t)(1u << (b % 8));
        for (size_t i = 0; i < n; i++)
            if (text[i])
                c.validity[(VALIDITY_OFFSET + i) / 8] |= (uint8_t)(1u << ((VALIDITY_OFFSET + i) % 8));
    }
    c.col = (alt_text_column){c.data, c.offsets, c.validity, c.validity ? VALIDITY_OFFSET : 0, n};
    return c;
}

static void column_free(column *c)
{
    free(c->data);
    free(c->offsets);
    free(c->validity);
}

/* ---- hand-written cases ---- */

enum kind { EUI64, HEX32, MPAN, MPRN };
static const char *const kind_name[] = {"eui64", "hex32", "mpan", "mprn"};

typedef struct case_ {
    enum kind kind;
    const char *text;   /* NULL: a null value */
    size_t len;         /* 0: strlen(text) */
    int state;
    uint64_t value;
    int canonical;      /* for ALT_ID_OK: already the canonical text */
} case_;

#define T(kind, text, state, value, canonical) {kind, text, 0, state, value, canonical}
#define OK_(kind, text, value, canonical) T(kind, text, ALT_ID_OK, value, canonical)
#define BAD(kind, text) T(kind, text, ALT_ID_MALFORMED, 0, 0)
#define NONE(kind, text) T(kind, text, ALT_ID_ABSENT, 0, 0)
#define DEFER(kind, text) T(kind, text, ALT_ID_DEFER, 0, 0)

static const case_ cases[] = {
    /* EUI-64: every accepted spelling */
    OK_(EUI64, "00-DB-12-34-56-78-90-A0", 0x00DB1234567890A0ull, 1),
    OK_(EUI64, "FF-FF-FF-FF-FF-FF-FF-FF", 0xFFFFFFFFFFFFFFFFull, 1),
    OK_(EUI64, "00-00-00-00-00-00-00-00", 0, 1),
    OK_(EUI64, "00-db-12-34-56-78-90-a0", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "00-DB-12-34-56-78-90-a0", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "00:DB:12:34:56:78:90:A0", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "00 DB 12 34 56 78 90 A0", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "00DB1234567890A0", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "00db1234567890a0", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "0x00DB1234567890A0", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "0X00db1234567890A0", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "  00-DB-12-34-56-78-90-A0", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "00-DB-12-34-56-78-90-A0\t\r\n", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "\v\f00-DB-12-34-56-78-90-A0 ", 0x00DB1234567890A0ull, 0),
    OK_(EUI64, "09-AF-af-FA-fa-90-0a-A0", 0x09AFAFFAFA900AA0ull, 0),
    /* EUI-64: malformed */
    BAD(EUI64, "00-DB-12-34-56-78-90-A"),
    BAD(EUI64, "00-DB-12-34-56-78-90-A00"),
    BAD(EUI64, "00-DB-12-34-56-78-90_A0"),
    BAD(EUI64, "00-DB-12-34-56-78:90-A0"),
    BAD(EUI64, "00.DB.12.34.56.78.90.A0"),
    BAD(EUI64, "00-DB-12-34-56-78-90-G0"),
    BAD(EUI64, "00-DB-12-34-56-78-90-A/"),
    BAD(EUI64, "00-DB-12-34-56-78-90-A:"),
    BAD(EUI64, "0@-DB-12-34-56-78-90-A0"),
    BAD(EUI64, "00-DB-12-34-56-78-90-A`"),
    BAD(EUI64, "00-DB-12-34-56-78-90-Ag"),
    BAD(EUI64, "00-DB-12-34-56-78-9 -A0"),
    BAD(EUI64, "00-DB-12-34-56-78 90 A0"),
    BAD(EUI64, "00DB-12-34-56-78-90-A0-"),
    BAD(EUI64, "-00DB-12-34-56-78-90-A0"),
    BAD(EUI64, "00-DB-12-34-56-7890-A0 1"),
    BAD(EUI64, "0x00DB1234567890A"),
    BAD(EUI64, "1x00DB1234567890A0"),
    BAD(EUI64, "0y00DB1234567890A0"),
    BAD(EUI64, "00DB1234567890AZ"),
    BAD(EUI64, "00DB1234567890A00"),
    BAD(EUI64, "00-DB-12-34-56-78-90-A0-00"),
    BAD(EUI64, "x"),
    BAD(EUI64, "00-DB-12-34-5\x01-78-90-A0"),
    BAD(EUI64, "00-DB-12-34-\xC3\xA9-78-90-A0"),
    /* EUI-64: absent and deferred */
    NONE(EUI64, NULL),
    NONE(EUI64, ""),
    NONE(EUI64, " \t\r\n\v\f"),
    DEFER(EUI64, "\xC2\xA0" "00-DB-12-34-56-78-90-A0"),
    DEFER(EUI64, "00-DB-12-34-56-78-90-A0\xE3\x80\x80"),
    DEFER(EUI64, "\xE2\x80\x83" "00-DB-12-34-56-78-90-A0\xE2\x80\x83"),
    DEFER(EUI64, "\x01" "00-DB-12-34-56-78-90-A0"),
    DEFER(EUI64, "00-DB-12-34-56-78-90-A0\x7F"),
    DEFER(EUI64, " \x1F"),
    DEFER(EUI64, "\xFF"),
    {EUI64, "00-DB-12-34-56-78-90-A0\0", 24, ALT_ID_DEFER, 0, 0},

    /* firmware versions */
    OK_(HEX32, "0x0102A0B3", 0x0102A0B3u, 1),
    OK_(HEX32, "0xFFFFFFFF", 0xFFFFFFFFu, 1),
    OK_(HEX32, "0x00000000", 0, 1),
    OK_(HEX32, "0X0102A0B3", 0x0102A0B3u, 0),
    OK_(HEX32, "0x0102a0b3", 0x0102A0B3u, 0),
    OK_(HEX32, "0102A0B3", 0x0102A0B3u, 0),
    OK_(HEX32, "0102a0b3", 0x0102A0B3u, 0),
    OK_(HEX32, " 0x0102A0B3\t", 0x0102A0B3u, 0),
    BAD(HEX32, "0x0102A0B"),
    BAD(HEX32, "0x0102A0B34"),
    BAD(HEX32, "0x0102A0G3"),
    BAD(HEX32, "0x0102A0B "),
    BAD(HEX32, "0 0102A0B3"),
    BAD(HEX32, "1x0102A0B3"),
    BAD(HEX32, "x00102A0B3"),
    BAD(HEX32, "0102A0B"),
    BAD(HEX32, "0102A0B3A"),
    BAD(HEX32, "0x0102\xC3\xA9" "B3"),
    BAD(HEX32, "0x"),
    NONE(HEX32, NULL),
    NONE(HEX32, ""),
    NONE(HEX32, "   "),
    DEFER(HEX32, "0x0102A0B3\xC2\xA0"),
    DEFER(HEX32, "\xE3\x80\x80" "0x0102A0B3"),

    /* MPAN: published examples (the widely quoted core; a full supply number from the limejump/mpan docs) */
    OK_(MPAN, "1200023305967", 1200023305967ull, 1),
    OK_(MPAN, "001112221312345678907", 1312345678907ull, 0),
    OK_(MPAN, "1312345678907", 1312345678907ull, 1),
    OK_(MPAN, "0000000000000", 0, 1),
    OK_(MPAN, " 1200023305967 ", 1200023305967ull, 0),
    OK_(MPAN, "801234561200023305967", 1200023305967ull, 0),
    BAD(MPAN, "1200023305968"),
    BAD(MPAN, "1200023305960"),
    BAD(MPAN, "2200023305967"),
    BAD(MPAN, "1312345678908"),
    BAD(MPAN, "001112221312345678906"),
    BAD(MPAN, "120002330596"),
    BAD(MPAN, "12000233059670"),
    BAD(MPAN, "12000233O5967"),
    BAD(MPAN, "1200023305 967"),
    BAD(MPAN, "12 00023305967"),
    BAD(MPAN, "S1200023305967"),
    BAD(MPAN, "0011122A1312345678907"),
    BAD(MPAN, "00111222131234567890"),
    BAD(MPAN, "-200023305967"),
    NONE(MPAN, NULL),
    NONE(MPAN, ""),
    DEFER(MPAN, "1200023305967\xE2\x80\x83"),

    /* MPRN: 6..10 digits */
    OK_(MPRN, "123456", 0, 1),
    OK_(MPRN, "1234567890", 0, 1),
    OK_(MPRN, " 12345678 ", 0, 0),
    BAD(MPRN, "12345"),
    BAD(MPRN, "12345678901"),
    BAD(MPRN, "1234a67"),
    BAD(MPRN, "1234 567"),
    NONE(MPRN, NULL),
    NONE(MPRN, "\t"),
    DEFER(MPRN, "\xC2\xA0" "123456"),
};
enum { NCASES = sizeof cases / sizeof *cases };

static size_t case_len(const case_ *c) { return c->len ? c->len : c->text ? strlen(c->text) : 0; }

/* Parses a column of one kind; value is NULL for MPRN (no value). */
static int parse(enum kind kind, const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *cn)
{
    switch (kind) {
    case EUI64:
        return alt_id_parse_eui64(col, value, state, cn);
    case MPAN:
        return alt_id_parse_mpan(col, value, state, cn);
    case MPRN:
        for (size_t i = 0; i < col->n; i++)
            value[i] = 0;
        return alt_id_check_digits(col, 6, 10, state, cn);
    case HEX32: {
        uint32_t *v32 = malloc((col->n ? col->n : 1) * sizeof *v32);
        int rc = alt_id_parse_hex32(col, v32, state, cn);
        for (size_t i = 0; i < col->n; i++)
            value[i] = v32[i];
        free(v32);
        return rc;
    }
    }
    return ALT_EINVAL;
}

static void test_cases(const char *tier)
{
    for (int kind = EUI64; kind <= MPRN; kind++) {
        const char *text[NCASES];
        size_t len[NCASES];
        const case_ *of_kind[NCASES];
        size_t n = 0;
        alt_id_counts want = {0};
        for (size_t k = 0; k < NCASES; k++) {
            const case_ *c = &cases[k];
            if (c->kind != (enum kind)kind)
                continue;
            text[n] = c->text;
            len[n] = case_len(c);
            of_kind[n++] = c;
            want.absent += c->state == ALT_ID_ABSENT;
            want.malformed += c->state == ALT_ID_MALFORMED;
            want.deferred += c->state == ALT_ID_DEFER;
            want.noncanonical += c->state == ALT_ID_OK && !c->canonical;
        }
        /* all together, nulls behind a bitmap with an offset */
        column all = column_of(text, len, n);
        uint64_t value[NCASES];
        uint8_t state[NCASES];
        alt_id_counts got;
        CHECK(parse(kind, &all.col, value, state, &got) == ALT_OK, "%s %s status", tier, kind_name[kind]);
        for (size_t i = 0; i < n; i++) {
            const case_ *c = of_kind[i];
            CHECK(state[i] == c->state && value[i] == c->value,
                  "%s %s \"%s\": state %d value %016llx, want %d %016llx", tier, kind_name[kind],
                  c->text ? c->text : "(null)", state[i], (unsigned long long)value[i], c->state,
                  (unsigned long long)c->value);
            /* alone, at the very end of its buffer, and without a bitmap when present */
            column one = column_of(&text[i], &len[i], 1);
            alt_id_counts single;
            uint64_t v1 = 99;
            uint8_t s1 = 99;
            parse(kind, &one.col, &v1, &s1, &single);
            CHECK(s1 == c->state && v1 == c->value, "%s %s alone \"%s\"", tier, kind_name[kind],
                  c->text ? c->text : "(null)");
            CHECK(single.noncanonical == (c->state == ALT_ID_OK && !c->canonical), "%s %s alone \"%s\" canonical",
                  tier, kind_name[kind], c->text ? c->text : "(null)");
            column_free(&one);
        }
        CHECK(got.absent == want.absent && got.malformed == want.malformed && got.deferred == want.deferred
                  && got.noncanonical == want.noncanonical,
              "%s %s counts %zu/%zu/%zu/%zu, want %zu/%zu/%zu/%zu", tier, kind_name[kind], got.absent,
              got.malformed, got.deferred, got.noncanonical, want.absent, want.malformed, want.deferred,
              want.noncanonical);
        column_free(&all);
    }
}

static void test_formats(const char *tier)
{
    static const uint64_t eui[] = {0x00DB1234567890A0ull, 0, 0xFFFFFFFFFFFFFFFFull, 0x0123456789ABCDEFull};
    static const char eui_text[] =
        "00-DB-12-34-56-78-90-A0" "00-00-00-00-00-00-00-00" "FF-FF-FF-FF-FF-FF-FF-FF" "01-23-45-67-89-AB-CD-EF";
    static const uint32_t ver[] = {0x0102A0B3u, 0, 0xFFFFFFFFu, 0x89ABCDEFu};
    static const char ver_text[] = "0x0102A0B3" "0x00000000" "0xFFFFFFFF" "0x89ABCDEF";
    static const uint64_t dec[] = {1200023305967ull, 0, 42};
    static const char dec_text[] = "1200023305967" "0000000000000" "0000000000042";
    /* exact-size outputs: a write past the end shows under the sanitizer */
    uint8_t *out = malloc(sizeof eui_text - 1);
    CHECK(alt_id_format_eui64(eui, 4, out) == ALT_OK && !memcmp(out, eui_text, sizeof eui_text - 1),
          "%s format_eui64 %.92s", tier, (const char *)out);
    free(out);
    out = malloc(sizeof ver_text - 1);
    CHECK(alt_id_format_hex32(ver, 4, out) == ALT_OK && !memcmp(out, ver_text, sizeof ver_text - 1),
          "%s format_hex32 %.40s", tier, (const char *)out);
    free(out);
    out = malloc(sizeof dec_text - 1);
    CHECK(alt_id_format_decimal(dec, 3, 13, out) == ALT_OK && !memcmp(out, dec_text, sizeof dec_text - 1),
          "%s format_decimal", tier);
    free(out);
    uint8_t scratch[32];
    CHECK(alt_id_format_eui64(NULL, 0, NULL) == ALT_OK, "%s empty format", tier);
    CHECK(alt_id_format_eui64(NULL, 1, scratch) == ALT_EINVAL, "%s format without values", tier);
    CHECK(alt_id_format_decimal(dec, 1, 21, scratch) == ALT_EINVAL, "%s decimal width 21", tier);
}

/* Zero-padded decimal, one digit at a time: the low `width` digits of v. */
static void decimal_reference(uint64_t v, unsigned width, uint8_t *out)
{
    for (unsigned k = width; k-- > 0; v /= 10)
        out[k] = (uint8_t)('0' + v % 10);
}

static void test_decimal(void)
{
    uint8_t got[20 * 64], want[20 * 64];
    uint64_t v[64];
    for (int round = 0; round < 2000; round++) {
        for (int k = 0; k < 64; k++)
            v[k] = k == 0 ? UINT64_MAX : k == 1 ? 0 : rnd() >> (rnd() % 64);
        unsigned width = 1 + (unsigned)round % 20;
        for (int k = 0; k < 64; k++)
            decimal_reference(v[k], width, want + k * width);
        CHECK(alt_id_format_decimal(v, 64, width, got) == ALT_OK && !memcmp(got, want, 64 * width),
              "format_decimal width %u", width);
    }
}

static void test_arguments(void)
{
    int32_t offsets[2] = {0, 0};
    alt_text_column empty = {NULL, offsets, NULL, 0, 1};
    uint64_t v;
    uint8_t s;
    alt_id_counts c;
    CHECK(alt_id_parse_eui64(&empty, &v, &s, &c) == ALT_OK && s == ALT_ID_ABSENT && c.absent == 1,
          "an empty value without data");
    CHECK(alt_id_parse_eui64(NULL, &v, &s, &c) == ALT_EINVAL, "no column");
    CHECK(alt_id_parse_eui64(&empty, NULL, &s, &c) == ALT_EINVAL, "no values");
    CHECK(alt_id_parse_mpan(&empty, &v, &s, NULL) == ALT_EINVAL, "no counts");
    CHECK(alt_id_check_digits(&empty, 0, 10, &s, &c) == ALT_EINVAL, "digit length 0");
    CHECK(alt_id_check_digits(&empty, 7, 6, &s, &c) == ALT_EINVAL, "digit lengths reversed");
    offsets[1] = 3;
    CHECK(alt_id_parse_eui64(&empty, &v, &s, &c) == ALT_EINVAL, "text without data");
}

/* ---- every tier against the portable one ---- */

static const uint8_t hex_upper[] = "0123456789ABCDEF";

static size_t canonical_text(enum kind kind, uint8_t *out)
{
    uint64_t x = rnd();
    switch (kind) {
    case EUI64:
        for (int g = 0; g < 8; g++) {
            out[3 * g] = hex_upper[(x >> (60 - 8 * g)) & 15];
            out[3 * g + 1] = hex_upper[(x >> (56 - 8 * g)) & 15];
            if (g < 7)
                out[3 * g + 2] = "-:- "[rnd() % 4];   /* mostly one kind; mixed ones are malformed */
        }
        if (rnd() % 2)
            for (int g = 1; g < 7; g++)
                out[3 * g + 2] = out[2];
        if (rnd() % 4 == 0)
            for (int k = 0; k < 23; k++)
                out[k] = (uint8_t)(out[k] >= 'A' ? out[k] | 0x20 : out[k]);
        return 23;
    case HEX32:
        out[0] = '0';
        out[1] = rnd() % 4 ? 'x' : 'X';
        for (int k = 0; k < 8; k++)
            out[2 + k] = (uint8_t)(rnd() % 4 ? hex_upper[(x >> (4 * k)) & 15] : "abcdef"[rnd() % 6]);
        return 10;
    case MPAN:
    case MPRN: {
        uint8_t digits[12];
        for (int k = 0; k < 12; k++) {
            digits[k] = (uint8_t)(rnd() % 10);
            out[k] = (uint8_t)('0' + digits[k]);
        }
        out[12] = (uint8_t)('0' + alt_id_mpan_check_digit(digits));
        return 13;
    }
    }
    return 0;
}

/* Builds a column of mutations of canonical values and compares tier `tier` with tier 0 on it. */
static size_t compare_mutations(enum kind kind, int tier, const char *tier_name)
{
    enum { BASES = 40 };
    size_t cap = (size_t)BASES * 24 * 260 + BASES * 64;
    const char **text = malloc(cap * sizeof *text);
    size_t *len = malloc(cap * sizeof *len);
    uint8_t *store = malloc(cap * 32);
    size_t n = 0;
    for (int b = 0; b < BASES; b++) {
        uint8_t base[32];
        size_t bl = canonical_text(kind, base);
        /* every byte value at every position */
        for (size_t pos = 0; pos < bl; pos++) {
            for (int byte = 0; byte < 256; byte++) {
                uint8_t *t = store + n * 32;
                memcpy(t, base, bl);
                t[pos] = (uint8_t)byte;
                text[n] = (const char *)t;
                len[n++] = bl;
            }
        }
        /* one byte dropped or added, padding, nulls, the 21-digit MPAN form, the plain hex forms */
        for (int k = 0; k < 64; k++) {
            uint8_t *t = store + n * 32;
            size_t l = bl;
            memcpy(t, base, bl);
            switch (k % 8) {
            case 0:
                memmove(t + k / 8, t + k / 8 + 1, --l - k / 8);
                break;
            case 1:
                memmove(t + k / 8 + 1, t + k / 8, l++ - k / 8);
                break;
            case 2:
                memmove(t + 1, t, l++);
                t[0] = " \t\n\r\v\f\xA0\x01"[k / 8];
                break;
            case 3:
                t[l++] = " \t\n\r\v\f\xA0\x80"[k / 8];
                break;
            case 4:
                text[n] = NULL;
                break;
            case 5:
                memmove(t + 8, t, l);
                memcpy(t, "80123456", 8);
                l += 8;
                break;
            case 6:
                l = kind == EUI64 ? 16 : 8;
                for (size_t j = 0; j < l; j++)
                    t[j] = hex_upper[rnd() % 16];
                break;
            case 7:
                l = rnd() % 30;
                for (size_t j = 0; j < l; j++)
                    t[j] = (uint8_t)rnd();
                break;
            }
            if (k % 8 != 4)
                text[n] = (const char *)t;
            len[n++] = l;
        }
    }
    column c = column_of(text, len, n);
    uint64_t *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
    uint8_t *want_state = malloc(n), *got_state = malloc(n);
    alt_id_counts want_counts, got_counts;
    alt_tiers_set(ALT_FAMILY_IDTEXT, 0);
    parse(kind, &c.col, want, want_state, &want_counts);
    alt_tiers_set(ALT_FAMILY_IDTEXT, tier);
    parse(kind, &c.col, got, got_state, &got_counts);
    for (size_t i = 0; i < n; i++)
        CHECK(got[i] == want[i] && got_state[i] == want_state[i],
              "%s %s \"%.*s\": %d %016llx, portable %d %016llx", tier_name, kind_name[kind],
              text[i] ? (int)len[i] : 6, text[i] ? text[i] : "(null)", got_state[i], (unsigned long long)got[i],
              want_state[i], (unsigned long long)want[i]);
    CHECK(!memcmp(&got_counts, &want_counts, sizeof got_counts), "%s %s mutation counts", tier_name,
          kind_name[kind]);
    free(want), free(got), free(want_state), free(got_state), free(text), free(len), free(store);
    column_free(&c);
    return n;
}

static void compare_formats(int tier, const char *tier_name)
{
    enum { N = 100000 };
    uint64_t *v = malloc(N * sizeof *v);
    uint32_t *v32 = malloc(N * sizeof *v32);
    for (size_t i = 0; i < N; i++) {
        v[i] = rnd();
        v32[i] = (uint32_t)v[i];
    }
    uint8_t *want = malloc(N * 23), *got = malloc(N * 23);
    for (size_t n = 0; n <= N; n = n ? n * 7 : 1) {
        alt_tiers_set(ALT_FAMILY_IDTEXT, 0);
        alt_id_format_eui64(v, n, want);
        alt_tiers_set(ALT_FAMILY_IDTEXT, tier);
        alt_id_format_eui64(v, n, got);
        CHECK(!memcmp(got, want, n * 23), "%s format_eui64 n %zu", tier_name, n);
        alt_tiers_set(ALT_FAMILY_IDTEXT, 0);
        alt_id_format_hex32(v32, n, want);
        alt_tiers_set(ALT_FAMILY_IDTEXT, tier);
        alt_id_format_hex32(v32, n, got);
        CHECK(!memcmp(got, want, n * 10), "%s format_hex32 n %zu", tier_name, n);
    }
    free(v), free(v32), free(want), free(got);
}

int main(void)
{
    test_arguments();
    test_decimal();
    int tiers = alt_tiers_count(ALT_FAMILY_IDTEXT);
    CHECK(tiers >= 1 && !strcmp(alt_tiers_name(ALT_FAMILY_IDTEXT, 0), "portable"), "tier 0 is portable");
    CHECK(alt_tiers_get(ALT_FAMILY_IDTEXT) == tiers - 1, "starts on the best tier");
    CHECK(alt_tiers_set(ALT_FAMILY_IDTEXT, tiers) == ALT_EUNSUPPORTED &&
              alt_tiers_name(ALT_FAMILY_IDTEXT, tiers) == NULL,
          "no tier past the last");
    size_t compared = 0;
    for (int tier = 0; tier < tiers; tier++) {
        const char *name = alt_tiers_name(ALT_FAMILY_IDTEXT, tier);
        alt_tiers_set(ALT_FAMILY_IDTEXT, tier);
        test_cases(name);
        test_formats(name);
        if (tier > 0) {
            for (int round = 0; round < 4; round++)
                for (int kind = EUI64; kind <= MPRN; kind++)
                    compared += compare_mutations(kind, tier, name);
            compare_formats(tier, name);
        }
    }
    printf("idtext: %d tier(s), %zu mutated values compared with portable, %d failure(s)\n", tiers, compared,
           failures);
    return failures != 0;
}
