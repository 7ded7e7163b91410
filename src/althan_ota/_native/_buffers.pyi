"""How the native modules take the caller's memory: for Cython only (see _buffers.pxd), no Python names."""
