# cython: language_level=3
"""C statuses (csrc/alt_status.h) -> the exceptions of althan_ota.errors, in one place: see _status.pxd."""

from .alt_status cimport (ALT_EAUTH, ALT_EINTR, ALT_EINVAL, ALT_ENOMEM, ALT_ERANGE, ALT_EUNSUPPORTED,
                          ALT_STATUS_LAST, alt_status_name, alt_status_text)

from ..errors import AltHanError, BackendError, InvalidTag, ParameterError

#: C status name -> the exception it raises. ALT_EINTR (a long run stopped through its control, which is what
#: Ctrl-C or a failing progress callback does) surfaces as KeyboardInterrupt.
EXCEPTIONS = {
    alt_status_name(ALT_EINVAL).decode(): ParameterError,
    alt_status_name(ALT_EAUTH).decode(): InvalidTag,
    alt_status_name(ALT_ENOMEM).decode(): MemoryError,
    alt_status_name(ALT_ERANGE).decode(): ParameterError,
    alt_status_name(ALT_EUNSUPPORTED).decode(): BackendError,
    alt_status_name(ALT_EINTR).decode(): KeyboardInterrupt,
}


def statuses():
    """Every failure status of the C core, as {code: name}."""
    return {rc: alt_status_name(rc).decode() for rc in range(-1, ALT_STATUS_LAST - 1, -1)}


cdef int raise_status(int rc, str what, object detail, object invalid) except -1:
    cdef const char *name = alt_status_name(rc)
    if name == NULL:
        raise AltHanError(f"{what}: unknown status {rc} from the C core")
    error = EXCEPTIONS[name.decode()]
    if invalid is not None and (rc == ALT_EINVAL or rc == ALT_ERANGE):
        error = invalid
    raise error(detail if detail is not None else f"{what}: {alt_status_text(rc).decode()}")
