/* AES-128 encryption (FIPS-197) and the ZigBee AES-MMO hash built on it.
 *
 * Only the forward cipher is provided: CCM* and Matyas-Meyer-Oseas never decrypt a block. The expanded key
 * is the FIPS-197 round-key byte sequence, the same for every tier, so a key expanded once can be used with
 * any tier. The family "aes" also carries CCM* (ccm.h): they share the same tiers.
 */
#ifndef ALT_AES_H
#define ALT_AES_H

#include <stddef.h>
#include <stdint.h>

#include "alt_status.h"

#define ALT_AES_BLOCK 16
#define ALT_AES128_ROUNDS 10

typedef struct alt_aes128_key {
    _Alignas(16) uint8_t rk[ALT_AES128_ROUNDS + 1][ALT_AES_BLOCK];
} alt_aes128_key;

/* Kernel family "aes" (tiers.h): "portable" (T-tables), "aes-ni", "vaes" (256-bit VAES, AVX2 encoding),
 * "vaes-avx512" (VAES on 512-bit registers, with AVX-512 F/BW/VL), as the CPU allows. */

int alt_aes128_expand_key(const uint8_t key[16], alt_aes128_key *ks);

/* ECB over len bytes (a multiple of 16, else ALT_EINVAL); in and out may be the same buffer. */
int alt_aes128_encrypt_ecb(const alt_aes128_key *ks, const uint8_t *in, size_t len, uint8_t *out);

/* ZigBee AES-MMO (spec 05-3474 Annex B.6): Matyas-Meyer-Oseas over AES-128, with the 16-bit bit-length
 * padding below 8192 bytes and the 32-bit bit length plus two zero bytes from 8192 bytes on. Inputs of
 * 2^29 bytes or more do not fit the 32-bit bit length: ALT_ERANGE. */
#define ALT_AES_MMO_MAX_LEN ((size_t)1 << 29)
int alt_aes_mmo(const uint8_t *data, size_t len, uint8_t digest[16]);

#endif
