/* Private to the aes family: one CCM* frame prepared for the block kernels of every tier.
 *
 * A frame is driven as a sequence of steps. Step t feeds the t-th CBC-MAC input block (B0, the formatted
 * AAD, the padded message) into the MAC chain and, in the same step, encrypts counter block t+1 (the
 * keystream of message block t), or counter block 0 (S0, which masks the MIC) once the message is done.
 * Because the MAC of message block t happens at step 1 + aad_blocks + t, after the keystream of that block,
 * a decryption can MAC the plaintext it has just produced. Tiers interleave the steps of several frames so
 * that the AES pipelines stay full; the scalar bookkeeping below is shared by all of them.
 */
#ifndef ALT_CCM_JOB_H
#define ALT_CCM_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct alt_aes128_key;

typedef struct alt_ccm_job {
    const struct alt_aes128_key *ks; /* expanded key, or NULL: the tier expands `key` */
    const uint8_t *key;
    const uint8_t *in;      /* plaintext (encrypt) or ciphertext (decrypt); must not alias `out` */
    uint8_t *out;           /* ciphertext (encrypt) or plaintext (decrypt) */
    const uint8_t *aad;
    const uint8_t *mic_in;  /* decrypt: the received MIC */
    uint8_t *mic_out;       /* encrypt: where the MIC goes */
    size_t len;
    size_t full_blocks;     /* whole 16-byte message blocks */
    size_t nblocks;         /* message blocks including a partial last one */
    size_t aad_blocks;      /* blocks of length prefix + AAD */
    size_t prefix_len;      /* 0, 2, 6 or 10 */
    size_t mac_steps;       /* 0 without a MIC */
    size_t steps;
    unsigned mic_len;
    bool ok;
    _Alignas(16) uint8_t b0[16];
    _Alignas(16) uint8_t a0[16];        /* counter block 0; block i is a0 with i in its last bytes */
    _Alignas(16) uint8_t aad_first[16]; /* length prefix and the first AAD bytes, zero padded */
    _Alignas(16) uint8_t aad_last[16];  /* the last AAD block, zero padded (when there are two or more) */
    _Alignas(16) uint8_t msg_tail[16];  /* the partial last plaintext block, zero padded */
    _Alignas(16) uint8_t mac[16];
    _Alignas(16) uint8_t s0[16];
} alt_ccm_job;

static const uint8_t alt_ccm_zero_block[16];

/* The CBC-MAC input of step t (a zero block once the frame has no more MAC input). */
static inline const uint8_t *alt_ccm_mac_input(const alt_ccm_job *j, size_t t, bool decrypt)
{
    if (t >= j->mac_steps)
        return alt_ccm_zero_block;
    if (t == 0)
        return j->b0;
    t -= 1;
    if (t < j->aad_blocks) {
        if (t == 0)
            return j->aad_first;
        if (t == j->aad_blocks - 1)
            return j->aad_last;
        return j->aad + 16 * t - j->prefix_len;
    }
    t -= j->aad_blocks;
    if (t < j->full_blocks)
        return (decrypt ? j->out : j->in) + 16 * t;
    return j->msg_tail;
}

/* The counter encrypted at step t: t+1 for message block t, then 0 for S0. */
static inline uint64_t alt_ccm_counter(const alt_ccm_job *j, size_t t)
{
    return (j->mic_len && t == j->nblocks) ? 0 : (uint64_t)t + 1;
}

/* Uses the keystream of step t when it is not a whole message block (tiers XOR those with vectors):
 * a partial last block, or S0. */
static inline void alt_ccm_take_keystream(alt_ccm_job *j, size_t t, const uint8_t ks[16], bool decrypt)
{
    if (t < j->nblocks) {
        size_t off = 16 * t, n = j->len - off < 16 ? j->len - off : 16;
        for (size_t i = 0; i < n; i++)
            j->out[off + i] = j->in[off + i] ^ ks[i];
        if (decrypt && t == j->full_blocks) {
            memset(j->msg_tail, 0, 16);
            memcpy(j->msg_tail, j->out + off, n);
        }
    } else if (t == j->nblocks) {
        memcpy(j->s0, ks, 16);
    }
}

/* After the last step: write the MIC (encrypt) or check it in constant time and wipe a forgery's
 * plaintext (decrypt). */
static inline void alt_ccm_finish(alt_ccm_job *j, bool decrypt)
{
    if (j->mic_len == 0) {
        j->ok = true;
        return;
    }
    uint8_t tag[16];
    for (unsigned i = 0; i < 16; i++)
        tag[i] = j->mac[i] ^ j->s0[i];
    if (!decrypt) {
        memcpy(j->mic_out, tag, j->mic_len);
        j->ok = true;
        return;
    }
    volatile uint8_t diff = 0;
    for (unsigned i = 0; i < j->mic_len; i++)
        diff |= tag[i] ^ j->mic_in[i];
    j->ok = diff == 0;
    if (!j->ok && j->len)
        memset(j->out, 0, j->len);
}

#endif

#ifndef ALT_CCM_UNIFORM_DEFINED
#define ALT_CCM_UNIFORM_DEFINED
/* A batch whose frames all have one shape (message, AAD, nonce and MIC lengths) and fixed strides: the
 * step schedule is then the same for every frame, so a tier can run it without per-frame bookkeeping,
 * building B0, the counter block and the padded AAD and message blocks with byte shuffles. A kernel that
 * reads up to 16 bytes past the start of any block it loads runs only frames whose over-reads stay inside
 * the caller's buffers (alt_ccm_uniform.safe); one with masked loads may run all n. */
typedef struct alt_ccm_uniform {
    const uint8_t *keys;        /* frame i's key: keys + 16 * (key_index ? key_index[i] : i * key_step) */
    size_t key_step;            /* 0: one key for all, 1: a key per frame */
    const int64_t *key_index;
    const struct alt_aes128_key *schedules; /* expanded keys matching `keys`, or NULL */
    const uint8_t *nonces;
    size_t nonce_len;
    const uint8_t *aad;         /* aad_len bytes per frame, back to back */
    size_t aad_len;
    const uint8_t *in;
    size_t in_stride;
    uint8_t *out;
    size_t out_stride;
    uint8_t *ok;
    size_t len;                 /* message bytes per frame */
    size_t n;                   /* frames in the batch */
    size_t safe;                /* frames [0, safe) may be over-read by 16 bytes */
    unsigned mic_len;
    size_t full_blocks, nblocks, aad_blocks, prefix_len, mac_steps, steps;
    _Alignas(16) uint8_t b0[16];            /* B0 with zero nonce bytes */
    _Alignas(16) uint8_t a0[16];            /* counter block 0 with zero nonce bytes */
    _Alignas(16) uint8_t nonce_shuffle[16]; /* pshufb control: nonce bytes to positions 1..nonce_len */
    _Alignas(16) uint8_t aad_first[16];     /* the length prefix, zeros after */
    _Alignas(16) uint8_t aad_first_shuffle[16]; /* pshufb control: AAD bytes after the prefix */
    _Alignas(16) uint8_t aad_last_mask[16];
    _Alignas(16) uint8_t tail_mask[16];
    _Alignas(16) uint8_t mic_mask[16];
} alt_ccm_uniform;

static inline const uint8_t *alt_ccm_uniform_key(const alt_ccm_uniform *u, size_t i)
{
    return u->keys + 16 * (u->key_index ? (size_t)u->key_index[i] : i * u->key_step);
}
#endif
