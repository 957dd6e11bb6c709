"""Build helpers for the book (not part of the `cossim` library)."""
