/* Private to csrc/frames*.c: little-endian (and big-endian nonce) field access and the FCS. */
#ifndef ALT_FRAMES_WIRE_H
#define ALT_FRAMES_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "crc.h"
#include "frames.h"

static inline void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static inline void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static inline uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static inline void put64_be(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline void put32_be(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static inline uint16_t fcs(const uint8_t *p, size_t n)
{
    uint32_t crc = alt_crc_empty(alt_crc_model_get(ALT_CRC16_KERMIT));
    alt_crc_compute(ALT_CRC16_KERMIT, p, n, &crc);
    return (uint16_t)crc;
}

static inline size_t addr_len(uint8_t mode) { return mode == ALT_FRAMES_ADDR_SHORT ? 2 : mode == ALT_FRAMES_ADDR_EXT ? 8 : 0; }

#endif
