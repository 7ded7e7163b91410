"""C statuses -> the exceptions of althan_ota.errors (see _status.pyx; check_rc is for Cython only)."""

EXCEPTIONS: dict[str, type[BaseException]]

def statuses() -> dict[int, str]: ...
