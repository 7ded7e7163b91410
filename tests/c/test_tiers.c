/* The kernel-family registry (tiers.h): every family lists "portable" first and starts on its best tier;
 * setting a tier is range-checked; alt_tiers_used records exactly the tiers whose kernels ran, which is what the
 * Python tests use to check the tier policy from C; a build without SIMD tiers has the portable ones only.
 * Also the status names (alt_status.h) the Python layer maps to exceptions. */
#include <stdio.h>
#include <string.h>

#include "alt_status.h"
#include "crc.h"
#include "sha256.h"
#include "tiers.h"

#include "check.h"

static void test_registry(void)
{
    for (int f = 0; f < ALT_FAMILY_COUNT; f++) {
        const char *name = alt_tiers_family_name(f);
        CHECK(name != NULL, "family %d has no name", f);
        for (int g = 0; g < f; g++)
            CHECK(strcmp(name, alt_tiers_family_name(g)) != 0, "two families named %s", name);
        int n = alt_tiers_count(f);
        CHECK(n >= 1 && strcmp(alt_tiers_name(f, 0), "portable") == 0, "%s: tier 0 is portable", name);
        CHECK(alt_tiers_get(f) == n - 1, "%s starts on its best tier", name);
        CHECK(alt_tiers_name(f, n) == NULL && alt_tiers_name(f, -1) == NULL, "%s: names out of range", name);
        CHECK(alt_tiers_set(f, n) == ALT_EUNSUPPORTED && alt_tiers_set(f, -1) == ALT_EUNSUPPORTED,
              "%s: set_tier out of range", name);
        CHECK(alt_tiers_get(f) == n - 1, "%s: a refused set_tier changed the tier", name);
#if !defined(ALT_X86_TIERS)
        CHECK(n == 1, "%s: %d tiers in a build without SIMD tiers", name, n);
#endif
    }
    CHECK(alt_tiers_family_name(ALT_FAMILY_COUNT) == NULL && alt_tiers_count(ALT_FAMILY_COUNT) == 0 &&
              alt_tiers_get(-1) == -1 && alt_tiers_set(ALT_FAMILY_COUNT, 0) == ALT_EUNSUPPORTED,
          "families out of range");
}

/* The byte pass calls SHA-256 and the CRC from C: what alt_tiers_used reports is what ran. */
static void test_used_records_dispatch(void)
{
    static const uint8_t data[1000];
    uint8_t digest[32];
    for (int tier = 0; tier < alt_tiers_count(ALT_FAMILY_CRC); tier++) {
        alt_tiers_reset_used();
        CHECK(alt_tiers_used(ALT_FAMILY_CRC) == 0, "reset");
        alt_tiers_set(ALT_FAMILY_CRC, tier);
        CHECK(alt_tiers_used(ALT_FAMILY_CRC) == 0, "choosing a tier is not using it");
        uint32_t crc = 0;
        alt_crc_compute(ALT_CRC16_KERMIT, data, sizeof data, &crc);
        CHECK(alt_tiers_used(ALT_FAMILY_CRC) == 1u << tier, "crc tier %d: used %#x", tier,
              alt_tiers_used(ALT_FAMILY_CRC));
        CHECK(alt_tiers_used(ALT_FAMILY_SHA256) == 0, "a CRC call marked SHA-256 used");
    }
    alt_tiers_set(ALT_FAMILY_SHA256, 0);
    alt_sha256(data, sizeof data, digest);
    int best = alt_tiers_count(ALT_FAMILY_SHA256) - 1;
    alt_tiers_set(ALT_FAMILY_SHA256, best);
    alt_sha256(data, sizeof data, digest);
    CHECK(alt_tiers_used(ALT_FAMILY_SHA256) == (1u | 1u << best), "sha256 used %#x",
          alt_tiers_used(ALT_FAMILY_SHA256));
    alt_tiers_set(ALT_FAMILY_CRC, alt_tiers_count(ALT_FAMILY_CRC) - 1);
}

static void test_status_names(void)
{
    for (int s = ALT_OK; s >= ALT_STATUS_LAST; s--)
        CHECK(alt_status_name(s) != NULL && alt_status_text(s) != NULL, "status %d has no name", s);
    CHECK(strcmp(alt_status_name(ALT_EINTR), "ALT_EINTR") == 0, "ALT_EINTR's name");
    CHECK(alt_status_name(ALT_STATUS_LAST - 1) == NULL && alt_status_name(1) == NULL, "unknown statuses");
}

static void test_crc_catalogue(void)
{
    for (int a = 0; a < ALT_CRC_ALGORITHM_COUNT; a++) {
        const alt_crc_model *m = alt_crc_model_get(a);
        CHECK(m->name && m->aliases && m->aliases[0], "algorithm %d has a name and aliases", a);
    }
}

int main(void)
{
    test_registry();
    test_used_records_dispatch();
    test_status_names();
    test_crc_catalogue();
    if (failures)
        return 1;
    printf("tiers: all checks passed on %d families\n", ALT_FAMILY_COUNT);
    return 0;
}
