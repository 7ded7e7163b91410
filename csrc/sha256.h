/* SHA-256 (FIPS 180-4): streaming, one-shot, and one digest per fixed-size block of a buffer. */
#ifndef ALT_SHA256_H
#define ALT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define ALT_SHA256_DIGEST_SIZE 32
#define ALT_SHA256_BLOCK_SIZE 64

typedef struct alt_sha256_ctx {
    uint32_t state[8];
    uint64_t total_len;               /* bytes absorbed so far */
    uint8_t buffer[ALT_SHA256_BLOCK_SIZE];
    size_t buffer_len;                /* bytes waiting in buffer, always < 64 */
} alt_sha256_ctx;

void alt_sha256_init(alt_sha256_ctx *ctx);
/* ALT_ERANGE once the message would exceed 2^61 - 1 bytes (its bit length must fit 64 bits). */
int alt_sha256_update(alt_sha256_ctx *ctx, const uint8_t *data, size_t len);
/* Writes the digest and wipes the context; init it again before reuse. */
int alt_sha256_final(alt_sha256_ctx *ctx, uint8_t out[ALT_SHA256_DIGEST_SIZE]);

int alt_sha256(const uint8_t *data, size_t len, uint8_t out[ALT_SHA256_DIGEST_SIZE]);

/* Hashes data[0:block_size], data[block_size:2*block_size], ... independently (the last block may be
 * short), writing ceil(len / block_size) digests of 32 bytes to out; nothing for len == 0.
 * ALT_EINVAL if block_size is 0. */
int alt_sha256_blocks(const uint8_t *data, size_t len, size_t block_size, uint8_t *out);

/* Kernel family "sha256" (tiers.h): "portable", then "sha-ni" where the CPU has it. */

#endif
