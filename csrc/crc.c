/* The CRC family: catalogue, derived tables and folding constants, the portable slice-by-16 tier, and the
 * tier dispatch. See crc.h for the register conventions. */
#include "crc.h"

#include <stdatomic.h>

#include "alt_status.h"
#include "cpu.h"
#include "once.h"
#include "tiers.h"

#define ALT_CRC_MODEL(id, name, width, poly, init, reflected, xorout, check, aliases) \
    [id] = {name, width, poly, init, reflected, xorout, check, aliases},
static const alt_crc_model models[ALT_CRC_ALGORITHM_COUNT] = {ALT_CRC_CATALOGUE(ALT_CRC_MODEL)};
#undef ALT_CRC_MODEL

const alt_crc_model *alt_crc_model_get(int algorithm)
{
    if (algorithm < 0 || algorithm >= ALT_CRC_ALGORITHM_COUNT)
        return NULL;
    return &models[algorithm];
}

/* ---- derivation of tables and constants ---- */

static uint64_t reflect_bits(uint64_t v, int bits)
{
    uint64_t r = 0;
    for (int i = 0; i < bits; i++)
        r |= ((v >> i) & 1u) << (bits - 1 - i);
    return r;
}

/* x^k mod G, G = x^32 + g. */
static uint32_t xpow_mod(unsigned k, uint32_t g)
{
    uint32_t v = 1;
    while (k--)
        v = (v & 0x80000000u) ? (v << 1) ^ g : v << 1;
    return v;
}

/* floor(x^64 / G): a 33-bit quotient (bit 32 always set). */
static uint64_t barrett_mu(uint32_t g)
{
    const uint64_t G = (1ull << 32) | g;
    uint64_t q = 1ull << 32;            /* the first step of the division: x^64 - x^32 * G = g * x^32 */
    uint64_t r = (uint64_t)g << 32;
    for (int i = 63; i >= 32; i--) {
        if ((r >> i) & 1u) {
            q |= 1ull << (i - 32);
            r ^= G << (i - 32);
        }
    }
    return q;
}

/* Folding and reduction constants, derived from G. MSB first a 128-bit register holds x^127..x^0 from bit
 * 127 down, and a 64-bit lane product is exact, so a lane is multiplied by x^k mod G. Reflected, bit i
 * holds x^(127-i) and clmul of two bit-reversed lanes yields the product times x, so the lane constant is
 * the bit-reversed x^(k-1) mod G, and the lanes swap roles (the low lane holds the high-degree half). */
static void derive_fold_constants(alt_crc_impl *impl, uint32_t g)
{
    const bool refl = impl->reflected;
#define LANE(k) (refl ? reflect_bits(xpow_mod((k) - 1, g), 64) : (uint64_t)xpow_mod((k), g))
    for (unsigned j = 1; j <= ALT_CRC_MAX_FOLD_CHUNKS; j++) {
        /* acc * x^(128 j) = hi * x^(128 j + 64) + lo * x^(128 j); "hi" is lane 1 MSB first, lane 0 reflected */
        uint64_t far = LANE(128 * j + 64), near = LANE(128 * j);
        impl->fold[j][0] = refl ? far : near;
        impl->fold[j][1] = refl ? near : far;
    }
    /* 128 -> 96 bits: the high half times x^96; 96 -> 64 bits: the top 32 bits times x^64. */
    impl->reduce[0] = refl ? LANE(96) : LANE(64);
    impl->reduce[1] = refl ? LANE(64) : LANE(96);
#undef LANE
    uint64_t mu = barrett_mu(g), G = (1ull << 32) | g;
    impl->barrett[0] = refl ? reflect_bits(mu, 33) : mu;
    impl->barrett[1] = refl ? reflect_bits(G, 33) : G;
}

static void build_impl(alt_crc_impl *impl, const alt_crc_model *m)
{
    impl->model = m;
    impl->reflected = m->reflected;
    impl->shift = m->reflected ? 0 : 32 - m->width;
    const uint32_t g = m->poly << (32 - m->width);
    const uint32_t g_reflected = (uint32_t)reflect_bits(g, 32);
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t r;
        if (m->reflected) {
            r = b;
            for (int i = 0; i < 8; i++)
                r = (r & 1u) ? (r >> 1) ^ g_reflected : r >> 1;
        } else {
            r = b << 24;
            for (int i = 0; i < 8; i++)
                r = (r & 0x80000000u) ? (r << 1) ^ g : r << 1;
        }
        impl->table[0][b] = r;
    }
    for (int k = 1; k < 16; k++) {
        for (int b = 0; b < 256; b++) {
            uint32_t prev = impl->table[k - 1][b];
            impl->table[k][b] = m->reflected ? (prev >> 8) ^ impl->table[0][prev & 0xFF]
                                             : (prev << 8) ^ impl->table[0][prev >> 24];
        }
    }
    derive_fold_constants(impl, g);
}

static alt_crc_impl impls[ALT_CRC_ALGORITHM_COUNT];
static atomic_int impl_state[ALT_CRC_ALGORITHM_COUNT];

static void build_impl_at(void *index)
{
    int a = (int)(intptr_t)index;
    build_impl(&impls[a], &models[a]);
}

const alt_crc_impl *alt_crc_impl_get(int algorithm)
{
    if (algorithm < 0 || algorithm >= ALT_CRC_ALGORITHM_COUNT)
        return NULL;
    alt_run_once(&impl_state[algorithm], build_impl_at, (void *)(intptr_t)algorithm);
    return &impls[algorithm];
}

/* ---- portable tier ---- */

static inline uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* table[k] advances a byte past k more bytes; the word's first byte is the furthest from the end. */
#define SLICE4(T, w, k0) \
    (T[(k0)][(w) & 0xFF] ^ T[(k0) - 1][((w) >> 8) & 0xFF] ^ T[(k0) - 2][((w) >> 16) & 0xFF] ^ \
     T[(k0) - 3][(w) >> 24])
#define SLICE4_BE(T, w, k0) \
    (T[(k0)][(w) >> 24] ^ T[(k0) - 1][((w) >> 16) & 0xFF] ^ T[(k0) - 2][((w) >> 8) & 0xFF] ^ \
     T[(k0) - 3][(w) & 0xFF])

uint32_t alt_crc_table_update(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t n)
{
    const uint32_t(*T)[256] = impl->table;
    if (impl->reflected) {
        for (; n >= 16; n -= 16, p += 16) {
            uint32_t a = load_le32(p) ^ reg, b = load_le32(p + 4), c = load_le32(p + 8), d = load_le32(p + 12);
            reg = SLICE4(T, a, 15) ^ SLICE4(T, b, 11) ^ SLICE4(T, c, 7) ^ SLICE4(T, d, 3);
        }
        for (; n; n--, p++)
            reg = T[0][(reg ^ *p) & 0xFF] ^ (reg >> 8);
    } else {
        for (; n >= 16; n -= 16, p += 16) {
            uint32_t a = load_be32(p) ^ reg, b = load_be32(p + 4), c = load_be32(p + 8), d = load_be32(p + 12);
            reg = SLICE4_BE(T, a, 15) ^ SLICE4_BE(T, b, 11) ^ SLICE4_BE(T, c, 7) ^ SLICE4_BE(T, d, 3);
        }
        for (; n; n--, p++)
            reg = T[0][(reg >> 24) ^ *p] ^ (reg << 8);
    }
    return reg;
}

uint32_t alt_crc_zeros(const alt_crc_impl *impl, uint32_t reg, size_t len)
{
    static const uint8_t zeros[256];
    for (; len > sizeof zeros; len -= sizeof zeros)
        reg = alt_crc_table_update(impl, reg, zeros, sizeof zeros);
    return alt_crc_table_update(impl, reg, zeros, len);
}

static void portable_blocks(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t block_size,
                            size_t n_blocks, void *out, size_t first)
{
    for (size_t i = 0; i < n_blocks; i++, p += block_size)
        alt_crc_store(impl, out, first + i, alt_crc_table_update(impl, reg, p, block_size));
}

static const alt_crc_kernel kernel_portable = {"portable", alt_crc_table_update, portable_blocks};

/* ---- tiers ---- */

static void add(alt_tier_list *tiers, const alt_crc_kernel *k) { alt_tiers_add(tiers, k->name, k); }

void alt_crc_list_tiers(alt_tier_list *tiers)
{
    add(tiers, &kernel_portable);
#if defined(ALT_X86_TIERS)
    const alt_cpu_features *f = alt_cpu_detect();
    if (f->pclmul && f->sse41)
        add(tiers, &alt_crc_kernel_pclmul);
    if (f->pclmul && f->sse41 && f->vpclmul)
        add(tiers, &alt_crc_kernel_vpclmul);
#endif
}

static const alt_crc_kernel *kernel(void) { return alt_tiers_active(ALT_FAMILY_CRC); }

/* ---- public entry points ---- */

int alt_crc_compute(int algorithm, const uint8_t *data, size_t len, uint32_t *crc)
{
    const alt_crc_impl *impl = alt_crc_impl_get(algorithm);
    if (!impl || !crc || (!data && len))
        return ALT_EINVAL;
    if (impl->model->width < 32 && (*crc >> impl->model->width))
        return ALT_EINVAL;
    uint32_t reg = kernel()->update(impl, alt_crc_to_register(impl, *crc), data, len);
    *crc = alt_crc_from_register(impl, reg);
    return ALT_OK;
}

int alt_crc_blocks(int algorithm, const uint8_t *data, size_t len, size_t block_size, void *out,
                   size_t out_count)
{
    const alt_crc_impl *impl = alt_crc_impl_get(algorithm);
    if (!impl || block_size == 0 || (!data && len))
        return ALT_EINVAL;
    const size_t full = len / block_size, count = full + (len % block_size != 0);
    if (out_count < count || (!out && count))
        return ALT_EINVAL;
    const alt_crc_kernel *k = kernel();
    const uint32_t reg = alt_crc_to_register(impl, alt_crc_empty(impl->model));
    size_t done = 0;
    if (full >= 2 && block_size >= 16 && block_size <= 16 * ALT_CRC_MAX_FOLD_CHUNKS) {
        alt_crc_store(impl, out, 0, k->update(impl, reg, data, block_size));
        k->blocks(impl, reg, data + block_size, block_size, full - 1, out, 1);
        done = full;
    }
    for (; done < count; done++) {
        size_t n = done < full ? block_size : len % block_size;
        alt_crc_store(impl, out, done, k->update(impl, reg, data + done * block_size, n));
    }
    return ALT_OK;
}
