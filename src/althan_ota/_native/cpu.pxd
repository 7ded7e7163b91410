# Declarations of csrc/cpu.h.

cdef extern from "cpu.h" nogil:
    ctypedef struct alt_cpu_features:
        bint sse41
        bint pclmul
        bint aesni
        bint avx2
        bint bmi2
        bint vaes
        bint vpclmul
        bint sha
        bint avx512f
    const alt_cpu_features *alt_cpu_detect()
