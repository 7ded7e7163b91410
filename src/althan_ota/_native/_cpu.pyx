# cython: language_level=3
"""CPU features as the C core sees them (detected once, cached)."""

from .cpu cimport alt_cpu_detect, alt_cpu_features


def features():
    """Return a dict of the instruction-set extensions the kernels may use on this CPU."""
    cdef const alt_cpu_features *f = alt_cpu_detect()
    return {
        "sse4.1": bool(f.sse41), "pclmulqdq": bool(f.pclmul), "aes-ni": bool(f.aesni),
        "avx2": bool(f.avx2), "bmi2": bool(f.bmi2), "vaes": bool(f.vaes),
        "vpclmulqdq": bool(f.vpclmul), "sha-ni": bool(f.sha), "avx512f": bool(f.avx512f),
    }
