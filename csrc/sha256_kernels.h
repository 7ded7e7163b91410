/* What a SHA-256 tier provides, shared by the dispatcher (sha256.c) and the instruction-set files. */
#ifndef ALT_SHA256_KERNELS_H
#define ALT_SHA256_KERNELS_H

#include <stddef.h>
#include <stdint.h>

extern const uint32_t alt_sha256_k[64];
extern const uint32_t alt_sha256_h0[8];

/* Runs the compression function over nblocks consecutive 64-byte blocks. */
typedef void (*alt_sha256_compress_fn)(uint32_t state[8], const uint8_t *blocks, size_t nblocks);

/* Hashes count messages of msg_len bytes each, laid end to end from data, writing count digests. A tier
 * makes this faster than count one-shot hashes by working on several messages at once. */
typedef void (*alt_sha256_many_fn)(const uint8_t *data, size_t msg_len, size_t count, uint8_t *out);

/* Writes the FIPS 180-4 padding of a message of total_len bytes whose last partial block holds the
 * tail_len = total_len % 64 bytes at tail; returns the number of 64-byte blocks written to pad (1 or 2). */
size_t alt_sha256_pad_tail(const uint8_t *tail, size_t tail_len, uint64_t total_len, uint8_t pad[128]);

#if defined(ALT_X86_TIERS)
void alt_sha256_compress_shani(uint32_t state[8], const uint8_t *blocks, size_t nblocks);
void alt_sha256_many_shani(const uint8_t *data, size_t msg_len, size_t count, uint8_t *out);
#endif

#endif
