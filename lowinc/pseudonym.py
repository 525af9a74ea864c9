"""Keyed pseudonyms (HMAC-SHA256) for ID numbers and other identifying codes.

The key comes from ``LOWINC_PSEUDONYM_KEY`` (production: a secret manager fills it) or,
for the embedded default, from a random secret file generated once under
``<home>/secure/`` (outside git, readable by its owner only). Without the key a
pseudonym cannot be reversed or recomputed from an ID number.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

KEY_ENV = "LOWINC_PSEUDONYM_KEY"
KEY_FILE = "pseudonym.key"
DIGEST_HEX_CHARS = 32  # 128 bits of the HMAC-SHA256 digest: no collisions at any real scale


def load_key(secure_dir: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """The pseudonym key: from the environment, else the local secret file (made if absent)."""
    env = os.environ if environ is None else environ
    if value := env.get(KEY_ENV, "").strip():
        return value.encode("utf-8")
    path = secure_dir / KEY_FILE
    if not path.exists():
        secure_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(secure_dir, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def pseudonym(value: str, key: bytes, namespace: str = "") -> str:
    """The keyed hash of one value; ``namespace`` separates kinds of code (households, cases)."""
    message = f"{namespace}:{value}" if namespace else value
    return hmac.digest(key, message.encode("utf-8"), "sha256").hex()[:DIGEST_HEX_CHARS]


def pseudonymise(values: pd.Series, key: bytes, namespace: str = "") -> pd.Series:
    """Keyed hashes of a column, computed once per distinct value; missing stays missing."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    hashed = pd.array([pseudonym(str(v), key, namespace) for v in uniques], dtype="str")
    out = pd.Series(pd.NA, index=values.index, dtype="str")
    present = codes >= 0
    if present.any():
        out[present] = hashed.take(codes[present])
    return out
