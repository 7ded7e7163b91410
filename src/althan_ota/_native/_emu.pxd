# What the byte pass (_emu_bytes.pyx) shares with the timing engine's wrapper.

from .emu cimport alt_emu_control


cdef class Control:
    cdef alt_emu_control *ctl
