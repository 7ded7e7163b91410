# The one translation of C statuses (csrc/alt_status.h) into the exceptions of althan_ota.errors. Every call
# into the C core that can fail ends in check_rc(rc, what): 0 returns at once, anything else raises.

cdef int raise_status(int rc, str what, object detail, object invalid) except -1


cdef inline int check_rc(int rc, str what, object detail=None, object invalid=None) except -1:
    """Raise the exception for a failed C status. The message is detail, where the caller knows what this
    status means here, else "<what>: <the status's description>". invalid: the errors.py class for bad input
    (ALT_EINVAL, ALT_ERANGE) in the caller's domain, e.g. FrameError; ParameterError by default."""
    if rc == 0:
        return 0
    return raise_status(rc, what, detail, invalid)
