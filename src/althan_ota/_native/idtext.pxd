# Declarations of csrc/idtext.h.

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

cdef extern from "idtext.h" nogil:
    ctypedef struct alt_text_column:
        const uint8_t *data
        const int32_t *offsets
        const uint8_t *validity
        int64_t validity_offset
        size_t n
    ctypedef struct alt_id_counts:
        size_t absent, malformed, deferred, noncanonical
    ctypedef struct alt_text_scan_result:
        size_t present, edges, empty
    int ALT_ID_OK, ALT_ID_ABSENT, ALT_ID_MALFORMED, ALT_ID_DEFER
    int alt_id_parse_eui64(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *c)
    int alt_id_parse_hex32(const alt_text_column *col, uint32_t *value, uint8_t *state, alt_id_counts *c)
    int alt_id_parse_mpan(const alt_text_column *col, uint64_t *value, uint8_t *state, alt_id_counts *c)
    int alt_id_check_digits(const alt_text_column *col, unsigned min_len, unsigned max_len, uint8_t *state,
                            alt_id_counts *c)
    int alt_id_format_eui64(const uint64_t *value, size_t n, uint8_t *out)
    int alt_id_format_hex32(const uint32_t *value, size_t n, uint8_t *out)
    int alt_id_format_decimal(const uint64_t *value, size_t n, unsigned width, uint8_t *out)
    int alt_text_scan(const alt_text_column *col, alt_text_scan_result *result)
