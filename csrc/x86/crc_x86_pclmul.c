/* The CRC family on PCLMULQDQ: 128-bit carry-less folding (crc_x86_fold.h). */
#include "x86/crc_x86_fold.h"

static uint32_t update_reflected(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t n)
{
    return crc_update128(impl, reg, p, n, false);
}

static uint32_t update_msb(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t n)
{
    return crc_update128(impl, reg, p, n, true);
}

static uint32_t update(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t n)
{
    return impl->reflected ? update_reflected(impl, reg, p, n) : update_msb(impl, reg, p, n);
}

static void blocks(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t block_size, size_t n_blocks,
                   void *out, size_t first)
{
    if (impl->reflected)
        crc_blocks128(impl, reg, p, block_size, n_blocks, out, first, false);
    else
        crc_blocks128(impl, reg, p, block_size, n_blocks, out, first, true);
}

const alt_crc_kernel alt_crc_kernel_pclmul = {"pclmulqdq", update, blocks};
