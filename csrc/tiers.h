/* Kernel families and their CPU tiers: one registry for every family, so that the tier policy
 * (ALTHAN_OTA_BACKEND, althan_ota.set_backend) is applied to all of them in one place, and C calling C (the
 * byte pass calling SHA-256 and the CRC) runs on the tier the caller chose.
 *
 * A family lists the implementations this build and CPU can run, "portable" first and the best last; it
 * starts on its best. Its entry points dispatch through alt_tiers_active(), which also records the tier it
 * hands out (alt_tiers_used), so tests can check from C which tier really ran.
 *
 * Adding a family: one line in ALT_KERNEL_FAMILIES below, and alt_<fam>_list_tiers() in the family's .c. */
#ifndef ALT_TIERS_H
#define ALT_TIERS_H

#define ALT_MAX_TIERS 6

/* X(enum constant, name in althan_ota.backend(), the function that lists the family's tiers) */
#define ALT_KERNEL_FAMILIES(X)                                                  \
    X(ALT_FAMILY_AES, "aes", alt_aes_list_tiers)       /* AES-128, AES-MMO, CCM* */ \
    X(ALT_FAMILY_CRC, "crc", alt_crc_list_tiers)                                \
    X(ALT_FAMILY_IDTEXT, "idtext", alt_idtext_list_tiers)                       \
    X(ALT_FAMILY_SHA256, "sha256", alt_sha256_list_tiers)

#define ALT_FAMILY_ENUM(id, name, list) id,
enum alt_family { ALT_KERNEL_FAMILIES(ALT_FAMILY_ENUM) ALT_FAMILY_COUNT };
#undef ALT_FAMILY_ENUM

/* The tiers of one family, as its list function fills them. */
typedef struct alt_tier_list {
    int count;
    const char *names[ALT_MAX_TIERS];
    const void *kernels[ALT_MAX_TIERS];   /* the family's own table of entry points for that tier */
} alt_tier_list;

#define ALT_FAMILY_LISTER(id, name, list) void list(alt_tier_list *tiers);
ALT_KERNEL_FAMILIES(ALT_FAMILY_LISTER)
#undef ALT_FAMILY_LISTER

/* For the families' list functions only: appends a usable tier. */
void alt_tiers_add(alt_tier_list *tiers, const char *name, const void *kernel);

/* "aes", "crc", ...; NULL for a family out of range. */
const char *alt_tiers_family_name(int family);

/* Tiers usable on this build and CPU (0 for a family out of range); tier 0 is "portable". */
int alt_tiers_count(int family);
const char *alt_tiers_name(int family, int tier);   /* NULL if out of range */
int alt_tiers_set(int family, int tier);            /* ALT_OK, or ALT_EUNSUPPORTED for anything out of range */
int alt_tiers_get(int family);                      /* -1 for a family out of range */

/* Bit t is set once tier t's kernel has been handed out by alt_tiers_active since the last reset. */
unsigned alt_tiers_used(int family);
void alt_tiers_reset_used(void);

/* For the family's own entry points: the kernel table of the tier in use (family must be in range). */
const void *alt_tiers_active(int family);

#endif
