/* AES-128 CCM* frame protection: CCM per NIST SP 800-38C / RFC 3610 (nonce 7..13 bytes, MIC 4..16 bytes,
 * even), plus CCM* encryption-only (MIC length 0: CTR from counter 1, no MIC) as ZigBee and IEEE 802.15.4
 * use it. Part of the "aes" kernel family: it runs on the AES tier in use (tiers.h).
 */
#ifndef ALT_CCM_H
#define ALT_CCM_H

#include <stddef.h>
#include <stdint.h>

#include "alt_status.h"

#define ALT_CCM_MIN_NONCE 7
#define ALT_CCM_MAX_NONCE 13
#define ALT_CCM_MAX_MIC 16

/* ALT_EINVAL for a nonce or MIC length CCM* does not allow, ALT_ERANGE for a message too long for the
 * nonce (the length field has 15 - nonce_len bytes). */
int alt_ccm_check_params(size_t nonce_len, size_t mic_len, size_t msg_len);

/* out receives len + mic_len bytes: ciphertext then MIC. out must not overlap pt. */
int alt_ccm_encrypt(const uint8_t key[16], const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                    size_t aad_len, const uint8_t *pt, size_t len, size_t mic_len, uint8_t *out);

/* in is ciphertext then MIC (in_len >= mic_len); pt receives in_len - mic_len bytes. ALT_EAUTH when the
 * MIC does not verify (compared in constant time), and then pt is zeroed. pt may equal in. */
int alt_ccm_decrypt(const uint8_t key[16], const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t in_len, size_t mic_len, uint8_t *pt);

/* n byte strings: string i is data[offsets[i] .. offsets[i+1]) when offsets is given (n+1 of them,
 * non-decreasing), else data[i*stride .. (i+1)*stride). */
typedef struct alt_ccm_spans {
    const uint8_t *data;
    const int64_t *offsets;
    size_t stride;
} alt_ccm_spans;

typedef struct alt_ccm_batch {
    size_t n;
    /* keys: key_count 16-byte keys. With key_index, frame i uses keys[key_index[i]]; else key_count is 1
     * (one key for all) or n (one key per frame). A table smaller than the batch is expanded once for the
     * portable and mixed-shape kernels; the fixed-shape x86 kernels expand every frame's key in their
     * lanes (interleaved, a few ns a frame). */
    const uint8_t *keys;
    size_t key_count;
    const int64_t *key_index;
    const uint8_t *nonces;  /* n * nonce_len bytes */
    size_t nonce_len;
    alt_ccm_spans aad;      /* data NULL and stride 0: no AAD */
    alt_ccm_spans in;       /* plaintexts (encrypt) or ciphertext-then-MIC frames (decrypt) */
    /* Output frames packed back to back in frame order: len_i + mic_len bytes each (encrypt), or
     * max(len_i - mic_len, 0) bytes each (decrypt). */
    uint8_t *out;
    size_t mic_len;
    uint8_t *ok;            /* n flags: 1 when the MIC verified (always 1 when encrypting) */
} alt_ccm_batch;

/* The whole batch, without stopping at a bad MIC: decryption marks it in ok (and zeroes that frame's
 * plaintext; a frame shorter than its MIC is also not ok). ALT_EINVAL for bad parameters or a key index out
 * of range, ALT_ERANGE when a frame is too long for the nonce (nothing is then written), ALT_ENOMEM. */
int alt_ccm_encrypt_batch(const alt_ccm_batch *batch);
int alt_ccm_decrypt_batch(const alt_ccm_batch *batch);

#endif
