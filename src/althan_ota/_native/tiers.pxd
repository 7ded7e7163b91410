# Declarations of csrc/tiers.h.

cdef extern from "tiers.h" nogil:
    enum:
        ALT_FAMILY_COUNT
    const char *alt_tiers_family_name(int family)
    int alt_tiers_count(int family)
    const char *alt_tiers_name(int family, int tier)
    int alt_tiers_set(int family, int tier)
    int alt_tiers_get(int family)
    unsigned alt_tiers_used(int family)
    void alt_tiers_reset_used()
