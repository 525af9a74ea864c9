"""The simulator's latent truth for a snapshot (evaluation only, kept apart from features).

The simulator names households by their 9-digit 户号 (``hh_no``); ingest keys them by the
keyed hash of that number, so the caller passes the same hashing function ingest used.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from features.timeline import month_label

TRUTH_COLUMNS = ("household_key", "as_of", "latent_fall", "p_fall")


def household_keys_of(hh_no: pd.Series, hash_codes: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Canonical household keys of simulator household numbers (int or str, zero-padded)."""
    return hash_codes(hh_no.astype("str").str.zfill(9))


def latent_truth(
    household_keys: pd.Series,
    as_of: pd.Timestamp,
    latent: pd.DataFrame,
    fall_probability: pd.DataFrame,
    hash_codes: Callable[[pd.Series], pd.Series],
) -> pd.DataFrame:
    """One row per snapshot household: whether it truly fell within the horizon (NA when
    the simulator did not follow it at T) and the true fall probability (NaN unless sampled)."""
    month = month_label(as_of)
    out = pd.DataFrame({"household_key": household_keys.astype("str").to_numpy()})
    out.insert(1, "as_of", pd.Series(as_of, index=out.index).astype("datetime64[us]"))
    lat_rows = latent[latent["as_of"].astype("str") == month]
    lat = pd.Series(
        lat_rows["fall_within_h"].to_numpy(),
        index=household_keys_of(lat_rows["hh_no"], hash_codes).to_numpy(),
    )
    # pandas-stubs: pd.array accepts a Series of bools and NaN for "boolean"; the stubs list only sequences
    out["latent_fall"] = pd.array(out["household_key"].map(lat.to_dict()), dtype="boolean")  # type: ignore[call-overload]
    fp_rows = fall_probability[fall_probability["as_of"].astype("str") == month]
    fp = pd.Series(
        fp_rows["p_fall"].to_numpy(dtype="float64"),
        index=household_keys_of(fp_rows["hh_no"], hash_codes).to_numpy(),
    )
    out["p_fall"] = out["household_key"].map(fp.to_dict()).astype("float64")
    return out
