/* Identifier text: the identifiers of inventory listings (EUI-64 device and hub IDs, firmware versions, MPAN
 * cores, MPRNs) parsed, validated and formatted straight from Arrow string-array buffers, one pass per
 * column. Listings of millions of rows (DCC fleet reports, supplier reports, AHI extracts) are read through
 * these; the accepted spellings are those of fleet/ids.py, which is their reference.
 *
 * Each parsed value gets a state. Surrounding ASCII white space (HT, LF, VT, FF, CR, space) is trimmed; a
 * value whose first or last byte after that is another control byte or a non-ASCII byte (perhaps Unicode
 * white space) is ALT_ID_DEFER: the caller judges it with full Unicode rules. "Canonical" means the value
 * is already byte-for-byte the text alt_id_format_* writes (and needs no trimming), so a column whose
 * values are all canonical can be kept as it is.
 */
#ifndef ALT_IDTEXT_H
#define ALT_IDTEXT_H

#include <stddef.h>
#include <stdint.h>

/* One Arrow string array (int32 offsets), read in place. */
typedef struct alt_text_column {
    const uint8_t *data;        /* value bytes (may be NULL when every value is empty or null) */
    const int32_t *offsets;     /* n + 1 offsets into data */
    const uint8_t *validity;    /* Arrow validity bitmap (LSB first); NULL when no value is null */
    int64_t validity_offset;    /* bit index of value 0 in validity: the array's offset */
    size_t n;
} alt_text_column;

enum alt_id_state {
    ALT_ID_OK = 0,          /* value written */
    ALT_ID_ABSENT = 1,      /* null, empty, or only white space; value 0 */
    ALT_ID_MALFORMED = 2,   /* value 0 */
    ALT_ID_DEFER = 3        /* starts or ends with a byte only Unicode rules can judge; value 0 */
};

typedef struct alt_id_counts {
    size_t absent, malformed, deferred;
    size_t noncanonical;    /* ALT_ID_OK values not already in canonical text form */
} alt_id_counts;

/* EUI-64: 16 hex digits, "0x" + 16, or 8 groups of 2 separated by one of '-', ':', ' ' used throughout;
 * either case. Canonical: "00-DB-12-34-56-78-90-A0". */
int alt_id_parse_eui64(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *counts);

/* 4-octet firmware version: 8 hex digits, optionally "0x"/"0X"-prefixed, either case. Canonical:
 * "0x0102A0B3". */
int alt_id_parse_hex32(const alt_text_column *col, uint32_t *value, uint8_t *state, alt_id_counts *counts);

/* MPAN: the 13-digit core or the 21-digit full supply number (whose last 13 digits are the core); the core's
 * check digit must hold (ALT_ID_MALFORMED otherwise). value: the core as an integer. Canonical: the core's
 * 13 digits alone. */
int alt_id_parse_mpan(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *counts);

/* Digit strings of min_len..max_len digits (MPRN: 6..10); no value. Canonical: no trimming needed. */
int alt_id_check_digits(const alt_text_column *col, unsigned min_len, unsigned max_len, uint8_t *state,
                        alt_id_counts *counts);

/* MPAN check digit of 12 digits (each 0..9): the MRA's prime-weighted sum mod 11 mod 10. */
unsigned alt_id_mpan_check_digit(const uint8_t digits[12]);

/* Fixed-width text, no separators between values: 23 bytes per EUI-64, 10 per version, `width` decimal
 * digits (zero-padded; 1..20) per integer. */
int alt_id_format_eui64(const uint64_t *value, size_t n, uint8_t *out);
int alt_id_format_hex32(const uint32_t *value, size_t n, uint8_t *out);
int alt_id_format_decimal(const uint64_t *value, size_t n, unsigned width, uint8_t *out);

/* For free-text columns: how many present values have a first or last byte that trimming might remove
 * (white space, any control byte, DEL or a non-ASCII byte), and how many are empty. */
typedef struct alt_text_scan_result {
    size_t present, edges, empty;
} alt_text_scan_result;
int alt_text_scan(const alt_text_column *col, alt_text_scan_result *result);

/* Kernel family "idtext" (tiers.h): "portable", then "avx2" where the CPU has it. */

#endif
