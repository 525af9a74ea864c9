"""Keyed pseudonyms (HMAC-SHA256) for ID numbers and other identifying codes.

The key comes from ``LOWINC_PSEUDONYM_KEY`` (production: a secret manager fills the worker's
environment), else from the file named by ``LOWINC_PSEUDONYM_KEY_FILE`` (a mounted secret),
else, for the embedded default, from a random secret file generated once under
``<home>/secure/`` (outside git, readable by its owner only). It is never handed to Prefect:
each worker reads it from its own environment or file. Without the key a
pseudonym cannot be reversed or recomputed from an ID number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from lowinc.errors import UserError
from lowinc.fixedwidth import GrowingKeyIndex, arrow_strings, as_fixed, from_fixed, is_width

KEY_ENV = "LOWINC_PSEUDONYM_KEY"
KEY_FILE_ENV = "LOWINC_PSEUDONYM_KEY_FILE"
KEY_FILE = "pseudonym.key"
DIGEST_HEX_CHARS = 32  # 128 bits of the HMAC-SHA256 digest: no collisions at any real scale
_BLOCK = 64  # SHA-256 block size
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def load_key(secure_dir: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """The pseudonym key: from the environment, else the secret file it names, else the
    home's own secret file (made if absent)."""
    env = os.environ if environ is None else environ
    if value := env.get(KEY_ENV, "").strip():
        return value.encode("utf-8")
    if named := env.get(KEY_FILE_ENV, "").strip():
        return _read_key_file(Path(named))
    path = secure_dir / KEY_FILE
    if not path.exists():
        secure_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(secure_dir, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def _read_key_file(path: Path) -> bytes:
    """A mounted secret file's key; a missing or empty one is the operator's to fix."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise UserError(
            f"{KEY_FILE_ENV} names {path}, which cannot be read ({error.strerror})",
            hint=f"point {KEY_FILE_ENV} at the pseudonym key file, or set {KEY_ENV}",
        ) from None
    if not value:
        raise UserError(f"the pseudonym key file {path} is empty", hint=f"write the key into {path}")
    return value.encode("utf-8")


def pseudonym(value: str, key: bytes, namespace: str = "") -> str:
    """The keyed hash of one value; ``namespace`` separates kinds of code (households, cases)."""
    message = f"{namespace}:{value}" if namespace else value
    return hmac.digest(key, message.encode("utf-8"), "sha256").hex()[:DIGEST_HEX_CHARS]


def pseudonymise(values: pd.Series, key: bytes, namespace: str = "") -> pd.Series:
    """Keyed hashes of a column, computed once per distinct value; missing stays missing."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    digest = _hmac_sha256_hex(key)
    prefix = f"{namespace}:" if namespace else ""
    hashed = pd.array([digest(f"{prefix}{v}".encode()) for v in uniques.tolist()], dtype="str")
    return pd.Series(hashed.take(codes, allow_fill=True), index=values.index, dtype="str")


class Pseudonymiser:
    """Keyed hashes of ID numbers, remembering the numbers already hashed.

    The same few million people recur in every table and every month; looking a number
    up among those already hashed (:class:`~lowinc.fixedwidth.KeyIndex`) costs a fraction
    of an HMAC, so each number is hashed once per process. Values that are not all
    18-character numbers (and codes in a namespace) take :func:`pseudonymise`'s path.
    The memo holds plaintext numbers: it lives in memory only, like the rows being read.
    """

    ID_WIDTH = 18

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._digest = _hmac_sha256_hex(key)
        self._index = GrowingKeyIndex(self.ID_WIDTH)
        self._hashes = np.zeros(1024, dtype=f"S{DIGEST_HEX_CHARS}")  # grown by doubling

    def __call__(self, values: pd.Series, namespace: str = "") -> pd.Series:
        arr = arrow_strings(values)
        if namespace or not is_width(arr, self.ID_WIDTH):
            return pseudonymise(values, self.key, namespace)
        ids = as_fixed(arr, self.ID_WIDTH)
        pos = self._index.find(ids)
        if (missing := pos < 0).any():
            self._learn(pd.unique(ids[missing]))
            pos[missing] = self._index.find(ids[missing])
        out = from_fixed(self._hashes[pos])
        out.index = values.index
        return out

    def _learn(self, new: np.ndarray) -> None:
        hashed = np.array([self._digest(v) for v in new.tolist()], dtype=f"S{DIGEST_HEX_CHARS}")
        start, end = len(self._index), len(self._index) + len(new)
        if end > len(self._hashes):
            grown = np.zeros(max(end, 2 * len(self._hashes)), dtype=self._hashes.dtype)
            grown[:start] = self._hashes[:start]
            self._hashes = grown
        self._hashes[start:end] = hashed
        self._index.add(new)


def _hmac_sha256_hex(key: bytes) -> Callable[[bytes], str]:
    """HMAC-SHA256 (RFC 2104) of one message, truncated as :func:`pseudonym` does, with the
    key's inner and outer padded blocks hashed once: each message then costs two copies
    of a SHA-256 state instead of a fresh HMAC set-up (about twice as fast per value)."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(key.translate(_IPAD)).copy
    outer = hashlib.sha256(key.translate(_OPAD)).copy
    n = DIGEST_HEX_CHARS

    def digest(message: bytes) -> str:
        i = inner()
        i.update(message)
        o = outer()
        o.update(i.digest())
        return o.hexdigest()[:n]

    return digest
