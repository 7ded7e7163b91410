"""Thin Cython wrappers over the C core in csrc/. Import through the Python API, not directly."""
