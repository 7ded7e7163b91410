/* Private to the aes family: one table of entry points per tier, filled by aes.c (portable) and the
 * csrc/x86 files. Not part of the public C API. */
#ifndef ALT_AES_IMPL_H
#define ALT_AES_IMPL_H

#include <stdbool.h>

#include "aes.h"
#include "ccm_job.h"

typedef struct alt_aes_impl {
    const char *name;
    void (*expand)(const uint8_t key[16], alt_aes128_key *ks);
    void (*ecb)(const alt_aes128_key *ks, const uint8_t *in, uint8_t *out, size_t nblocks);
    /* Matyas-Meyer-Oseas compression over whole blocks: h = E_h(m) ^ m for each block m. */
    void (*mmo)(uint8_t h[16], const uint8_t *blocks, size_t nblocks);
    /* Runs prepared CCM* jobs (ccm_job.h); several frames' AES streams may be interleaved. */
    void (*ccm)(alt_ccm_job *jobs, size_t n, bool decrypt);
    /* Optional: runs frames [0, k) of a uniform batch (k <= u->safe, or k <= u->n for a kernel that reads
     * nothing past a frame's fields) and returns k. */
    size_t (*ccm_uniform)(const alt_ccm_uniform *u, bool decrypt);
} alt_aes_impl;

extern const alt_aes_impl alt_aes_impl_portable;
#if defined(ALT_X86_TIERS)
extern const alt_aes_impl alt_aes_impl_aesni;
extern const alt_aes_impl alt_aes_impl_vaes;
extern const alt_aes_impl alt_aes_impl_vaes512;
/* Shared by the vaes tiers, which have nothing wider to offer for a single key schedule, the sequential MMO
 * or CCM* frames of mixed shapes. */
void alt_aes_aesni_expand(const uint8_t key[16], alt_aes128_key *ks);
void alt_aes_aesni_mmo(uint8_t h[16], const uint8_t *blocks, size_t nblocks);
void alt_aes_aesni_ccm(alt_ccm_job *jobs, size_t n, bool decrypt);
#endif

/* The tier in use (the best one until alt_tiers_set(ALT_FAMILY_AES, ...) says otherwise). */
const alt_aes_impl *alt_aes_active(void);

#endif
