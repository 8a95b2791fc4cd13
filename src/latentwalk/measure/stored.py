"""The measures of a run, kept in its folder (measures.json) for the explorer and for anyone who reads the run later.

`latentwalk measure` and the demo store what they measured: the row of each sampler (and the real row, the
ceiling it is read against) and the path length of each interpolation method, each with its count. A later
measure replaces what it measures again and keeps the rest. Measures belong to the weights they were taken of:
the file records the SHA-256 of the bytes the measured model was loaded from (`checkpoint.load`), they are
stored only while the run's weights file still has that hash, and once training goes on the run reads as
unmeasured.

    {"weights_sha256": "...", "network": {name, sha256, features, test_accuracy},
     "samples": {"real": row, "prior": row, ...},          rows as `latentwalk measure --json` prints them
     "paths": {"lerp": {"ppl": 2.6, "paths": 10000, "epsilon": 0.0001}, ...}}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

from .. import atomic
from ..errors import RunError
from ..run import checkpoint
from . import classifier, ppl

FILE = "measures.json"


def read(run: str | os.PathLike, weights_sha256: str | None = None) -> dict | None:
    """The run's measures of the weights with this SHA-256 (default: those in the folder now), or None when it
    has none of them; a damaged file is a one-line error."""
    path = checkpoint.run_file(run, FILE)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        fresh = record["weights_sha256"] == (weights_sha256 or checkpoint.weights_sha256(run))
        if not (isinstance(record["samples"], dict) and isinstance(record["paths"], dict)
                and all(isinstance(r, dict) for r in [*record["samples"].values(), *record["paths"].values()])):
            raise ValueError("samples and paths must map names to objects")
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError, RecursionError) as e:
        raise RunError(f"{path}: damaged ({e}); delete it or run `latentwalk measure {run}` to write it again") \
            from None
    return record if fresh else None


def lengths(run: str | os.PathLike, counts: Mapping[str, int], weights_sha256: str) -> dict[str, tuple[float, int]]:
    """The path lengths (method -> (PPL, paths)) the run keeps of the weights with this SHA-256 that were taken as
    `counts` asks (the same number of paths, network and epsilon): what a later demo need not walk again."""
    try:
        record = read(run, weights_sha256)
    except RunError:
        return {}
    if record is None or record["network"] != classifier.INFO:
        return {}
    kept = record["paths"]
    return {m: (kept[m]["ppl"], n) for m, n in counts.items()
            if m in kept and kept[m].get("paths") == n and kept[m].get("epsilon") == ppl.EPSILON}


def merged(record: dict | None, rows: Sequence[Mapping] = (), lengths: Mapping[str, tuple[float, int]] | None = None,
           weights_sha256: str = "") -> dict:
    """`record` (None or one of other weights or another network: a new one) with the sampler rows (each with
    its "sampler") and path lengths (method -> (PPL, prior paths it averages)) put in, replacing those of the
    same names. An outside model's record has no weights file to name (kept in memory by the explorer)."""
    if record is None or record["network"] != classifier.INFO or record["weights_sha256"] != weights_sha256:
        record = {"weights_sha256": weights_sha256, "network": classifier.INFO, "samples": {}, "paths": {}}
    record["samples"].update({row["sampler"]: dict(row) for row in rows})
    record["paths"].update({m: {"ppl": round(v, 4), "paths": n, "epsilon": ppl.EPSILON}
                            for m, (v, n) in (lengths or {}).items()})
    return record


def store(run: str | os.PathLike, weights_sha256: str, rows: Sequence[Mapping] = (),
          lengths: Mapping[str, tuple[float, int]] | None = None) -> dict | None:
    """Put sampler rows and path lengths, measured of the weights with this SHA-256, into the run's measures (see
    `merged`); return the whole record. None, and nothing stored, when the run's weights are no longer those
    (training went on meanwhile): the caller says so. Should the weights change just after the check, the record
    still names the weights measured, and reads as stale."""
    if checkpoint.weights_sha256(run) != weights_sha256:
        return None
    try:
        record = read(run, weights_sha256)
    except RunError:
        record = None                  # a damaged file is replaced by what was just measured
    record = merged(record, rows, lengths, weights_sha256)
    atomic.write_text(checkpoint.run_file(run, FILE), json.dumps(record, indent=1) + "\n")
    return record


def not_stored(run: str | os.PathLike) -> str:
    """The line that says measures were not stored (`store` returned None)."""
    return (f"{run}: its weights changed while it was measured (training went on): the numbers above are of the "
            f"weights loaded before and are not stored")
