/* Template of the uniform-batch CCM* kernel (ccm_job.h, alt_ccm_uniform), shared by the AES-NI and VAES
 * tiers. The includer defines:
 *   UK_NAME        the function to define: size_t UK_NAME(const alt_ccm_uniform *u, bool decrypt)
 *   UK_VEC         the vector type; UK_W lanes (frames) per vector; UK_NVEC vectors per group
 *   UK_GATHER(p)   a vector from UK_W 16-byte blocks at p[0], p[1], ... (each a const uint8_t *)
 *   UK_FROM(b)     a vector from UK_W __m128i values b[0], b[1], ...
 *   UK_LANE(v, h)  lane h of v as __m128i
 *   UK_BCAST(x)    x (__m128i) in every lane
 *   UK_XOR, UK_AND, UK_ENC, UK_ENCLAST, UK_KEYSTEP(k, rcon), UK_ZERO()
 * Frames run UK_W * UK_NVEC at a time in lock step; the step schedule is the same for all of them, so every
 * per-step decision is made once per group. */

static size_t UK_NAME(const alt_ccm_uniform *u, bool decrypt)
{
    enum { UK_LANES = UK_W * UK_NVEC };
    const size_t groups = u->safe / UK_LANES;
    const size_t full = u->full_blocks, nb = u->nblocks, ab = u->aad_blocks, steps = u->steps;
    const size_t len = u->len, tail_len = len % 16, prefix = u->prefix_len;
    const bool mic = u->mic_len != 0;
    const __m128i nonce_shuffle = _mm_load_si128((const __m128i *)u->nonce_shuffle);
    const __m128i b0_template = _mm_load_si128((const __m128i *)u->b0);
    const __m128i a0_template = _mm_load_si128((const __m128i *)u->a0);
    const __m128i aad_first_shuffle = _mm_load_si128((const __m128i *)u->aad_first_shuffle);
    const __m128i aad_first_prefix = _mm_load_si128((const __m128i *)u->aad_first);
    const __m128i aad_last_mask = _mm_load_si128((const __m128i *)u->aad_last_mask);
    const __m128i tail_mask = _mm_load_si128((const __m128i *)u->tail_mask);
    const __m128i mic_mask = _mm_load_si128((const __m128i *)u->mic_mask);
    const size_t aad_last_off = ab > 1 ? 16 * (ab - 1) - prefix : 0;

    for (size_t g = 0; g < groups; g++) {
        const size_t i0 = g * UK_LANES;
        const uint8_t *key[UK_LANES], *in[UK_LANES], *aad[UK_LANES], *msg[UK_LANES];
        uint8_t *out[UK_LANES];
        UK_VEC rk[UK_NVEC][ALT_AES128_ROUNDS + 1];
        UK_VEC x[UK_NVEC], c[UK_NVEC], a0[UK_NVEC], b0[UK_NVEC], af[UK_NVEC], al[UK_NVEC], tl[UK_NVEC],
            s0[UK_NVEC];
        _Pragma("GCC unroll 16")
        for (int j = 0; j < UK_LANES; j++) {
            size_t i = i0 + (size_t)j;
            key[j] = alt_ccm_uniform_key(u, i);
            in[j] = u->in + i * u->in_stride;
            out[j] = u->out + i * u->out_stride;
            aad[j] = u->aad ? u->aad + i * u->aad_len : NULL;
            msg[j] = decrypt ? out[j] : in[j];
        }
        _Pragma("GCC unroll 16")
        for (int v = 0; v < UK_NVEC; v++) {
            __m128i lane_b0[UK_W], lane_a0[UK_W], lane_af[UK_W], lane_al[UK_W], lane_tl[UK_W];
            _Pragma("GCC unroll 16")
            for (int h = 0; h < UK_W; h++) {
                int j = v * UK_W + h;
                __m128i nonce = _mm_shuffle_epi8(
                    _mm_loadu_si128((const __m128i *)(u->nonces + (i0 + (size_t)j) * u->nonce_len)), nonce_shuffle);
                lane_b0[h] = _mm_or_si128(nonce, b0_template);
                lane_a0[h] = _mm_or_si128(nonce, a0_template);
                lane_af[h] = lane_al[h] = lane_tl[h] = _mm_setzero_si128();
                if (ab) {
                    lane_af[h] = _mm_or_si128(_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)aad[j]),
                                                               aad_first_shuffle), aad_first_prefix);
                    lane_al[h] = _mm_and_si128(_mm_loadu_si128((const __m128i *)(aad[j] + aad_last_off)),
                                               aad_last_mask);
                }
                if (tail_len && !decrypt)
                    lane_tl[h] = _mm_and_si128(_mm_loadu_si128((const __m128i *)(in[j] + 16 * full)),
                                               tail_mask);
            }
            b0[v] = UK_FROM(lane_b0);
            af[v] = UK_FROM(lane_af);
            al[v] = UK_FROM(lane_al);
            tl[v] = UK_FROM(lane_tl);   /* decryption replaces it once the plaintext tail exists */
            rk[v][0] = UK_GATHER((key + v * UK_W));
            a0[v] = UK_XOR(UK_FROM(lane_a0), rk[v][0]);   /* whitened once: counters only XOR in */
            x[v] = UK_ZERO();
            s0[v] = UK_ZERO();
        }
#define STEP(r, rc)                                   \
        _Pragma("GCC unroll 16")                      \
        for (int v = 0; v < UK_NVEC; v++)             \
            rk[v][r] = UK_KEYSTEP(rk[v][r - 1], rc);
        ALT_AES_FOR_EACH_ROUND(STEP)
#undef STEP

        for (size_t t = 0; t < steps; t++) {
            /* This step's MAC input: a block formatted above, or a whole block read in place. */
            const UK_VEC *formatted = NULL;
            const uint8_t *const *base = NULL;
            size_t off = 0;
            if (t == 0 || !mic) {
                formatted = b0;
            } else if (t <= ab) {
                size_t a = t - 1;
                if (a == 0)
                    formatted = af;
                else if (a == ab - 1)
                    formatted = al;
                else
                    base = aad, off = 16 * a - prefix;
            } else if (t - 1 - ab < full) {
                base = msg, off = 16 * (t - 1 - ab);
            } else {
                formatted = tl;
            }
            const uint64_t counter = (mic && t == nb) ? 0 : (uint64_t)t + 1;
            const UK_VEC ctr = UK_BCAST(_mm_set_epi64x((long long)__builtin_bswap64(counter), 0));
            /* Each step runs the MAC chain, the keystream, or both; never blocks nobody reads. */
            const bool do_mac = mic, do_ctr = t < nb + (mic ? 1 : 0);
            _Pragma("GCC unroll 16")
            for (int v = 0; v < UK_NVEC; v++) {
                UK_VEC m;
                if (formatted) {
                    m = formatted[v];
                } else {
                    const uint8_t *p[UK_W];
                    _Pragma("GCC unroll 16")
                    for (int h = 0; h < UK_W; h++)
                        p[h] = base[v * UK_W + h] + off;
                    m = UK_GATHER(p);
                }
                x[v] = UK_XOR(x[v], UK_XOR(m, rk[v][0]));   /* keep one XOR on the MAC chain */
                c[v] = UK_XOR(a0[v], ctr);
            }
#define UK_ROUNDS(MAC, CTR)                                                   \
            _Pragma("GCC unroll 16")                                          \
            for (int r = 1; r < ALT_AES128_ROUNDS; r++) {                     \
                _Pragma("GCC unroll 16")                                      \
                for (int v = 0; v < UK_NVEC; v++) {                           \
                    if (MAC)                                                  \
                        x[v] = UK_ENC(x[v], rk[v][r]);                        \
                    if (CTR)                                                  \
                        c[v] = UK_ENC(c[v], rk[v][r]);                        \
                }                                                             \
            }                                                                 \
            _Pragma("GCC unroll 16")                                          \
            for (int v = 0; v < UK_NVEC; v++) {                               \
                if (MAC)                                                      \
                    x[v] = UK_ENCLAST(x[v], rk[v][ALT_AES128_ROUNDS]);        \
                if (CTR)                                                      \
                    c[v] = UK_ENCLAST(c[v], rk[v][ALT_AES128_ROUNDS]);        \
            }
            if (do_mac && do_ctr) {
                UK_ROUNDS(1, 1)
            } else if (do_mac) {
                UK_ROUNDS(1, 0)
            } else {
                UK_ROUNDS(0, 1)
            }
#undef UK_ROUNDS
            if (t < full) {
                _Pragma("GCC unroll 16")
                for (int j = 0; j < UK_LANES; j++) {
                    __m128i data = _mm_loadu_si128((const __m128i *)(in[j] + 16 * t));
                    _mm_storeu_si128((__m128i *)(out[j] + 16 * t), _mm_xor_si128(data, UK_LANE(c[j / UK_W], j % UK_W)));
                }
            } else if (t == full && tail_len) {
                _Pragma("GCC unroll 16")
                for (int v = 0; v < UK_NVEC; v++) {
                    __m128i plain[UK_W];
                    _Pragma("GCC unroll 16")
                    for (int h = 0; h < UK_W; h++) {
                        int j = v * UK_W + h;
                        _Alignas(16) uint8_t bounce[16];
                        __m128i data = _mm_loadu_si128((const __m128i *)(in[j] + 16 * t));
                        __m128i res = _mm_xor_si128(data, UK_LANE(c[v], h));
                        _mm_store_si128((__m128i *)bounce, res);
                        memcpy(out[j] + 16 * t, bounce, tail_len);
                        plain[h] = _mm_and_si128(res, tail_mask);
                    }
                    if (decrypt)
                        tl[v] = UK_FROM(plain);
                }
            }
            if (mic && t == nb) {
                _Pragma("GCC unroll 16")
                for (int v = 0; v < UK_NVEC; v++)
                    s0[v] = c[v];
            }
        }

        _Pragma("GCC unroll 16")
        for (int j = 0; j < UK_LANES; j++) {
            size_t i = i0 + (size_t)j;
            if (!mic) {
                u->ok[i] = 1;
                continue;
            }
            __m128i tag = _mm_xor_si128(UK_LANE(x[j / UK_W], j % UK_W), UK_LANE(s0[j / UK_W], j % UK_W));
            if (!decrypt) {
                _Alignas(16) uint8_t bounce[16];
                _mm_store_si128((__m128i *)bounce, tag);
                memcpy(out[j] + len, bounce, u->mic_len);
                u->ok[i] = 1;
            } else {
                __m128i got = _mm_and_si128(_mm_loadu_si128((const __m128i *)(in[j] + len)), mic_mask);
                __m128i same = _mm_cmpeq_epi8(got, _mm_and_si128(tag, mic_mask));
                bool ok = _mm_movemask_epi8(same) == 0xffff;
                u->ok[i] = ok;
                if (!ok && len)
                    memset(out[j], 0, len);
            }
        }
    }
    return groups * UK_LANES;
}
