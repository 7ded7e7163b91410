/* Compiler helpers shared by every file of the C core, so that each is spelled one way. */
#ifndef ALT_COMPILER_H
#define ALT_COMPILER_H

#if defined(__GNUC__)
/* For helpers of a hot loop that is instantiated more than once (the emulator's download loop, the SIMD
 * kernels' lane loops): without it the compiler's inlining budget runs out and the copies call them. */
#define ALT_ALWAYS_INLINE static inline __attribute__((always_inline))
/* For a cold fallback inside a hot loop, so that the loop stays small. */
#define ALT_NOINLINE __attribute__((noinline))
/* For data private to the core that hot loops read: inside the shared library a default-visibility symbol is
 * reached through the GOT on every access (this made the idtext loops up to 4x slower). */
#define ALT_HIDDEN __attribute__((visibility("hidden")))
#else
#define ALT_ALWAYS_INLINE static inline
#define ALT_NOINLINE
#define ALT_HIDDEN
#endif

#endif
