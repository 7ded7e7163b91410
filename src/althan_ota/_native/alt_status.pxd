# Declarations of csrc/alt_status.h (the only place they are declared for Cython).

cdef extern from "alt_status.h" nogil:
    enum alt_status:
        ALT_OK
        ALT_EINVAL
        ALT_EAUTH
        ALT_ENOMEM
        ALT_ERANGE
        ALT_EUNSUPPORTED
        ALT_EINTR
        ALT_STATUS_LAST
    const char *alt_status_name(int status)
    const char *alt_status_text(int status)
