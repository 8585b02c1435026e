"""Short digests of text and bytes: the keys of the build cache and the signatures of outputs."""

from __future__ import annotations

import hashlib


def digest_text(*parts: str) -> str:
    """Return a short hex digest of text parts, kept apart by a separator."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def digest(*parts: str | bytes) -> str:
    """Return a short hex digest of text or byte parts, kept apart by a separator."""
    if all(type(part) is str for part in parts):
        return digest_text(*parts)  # type: ignore[arg-type]
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\x1f")
    return h.hexdigest()


def bytes_digest(data: bytes) -> str:
    """Return the digest of a file's bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()
