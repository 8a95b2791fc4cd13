"""The time of each measure of `latentwalk measure` on 10,000 samples of one model, and ours against prdc.

Target: all measures of one model (one sampler, its real reference and the four path lengths) in <= 60 s on
2 cores, the one-time mixture fit reported apart. Reference in the same run: prdc's `compute_prdc` called
twice per row (k = 3 for precision and recall, k = 5 for density and coverage), against ours, which computes
the real side once per run and checks the numbers against prdc's.

    python benchmarks/measure_speed.py --run runs/demo/vae10 [--n 10000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from pathlib import Path

import numpy as np
import prdc

from latentwalk.measure import classifier, ppl, quality
from latentwalk.run import checkpoint
from latentwalk.walk import core


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--n", type=int, default=10_000)
    args = p.parse_args()
    net, model = classifier.load(), checkpoint.load(args.run)
    test_x = checkpoint.test_data(args.run, args.n)[0]
    rows = {}
    real_f, rows["features of the real images"] = timed(lambda: classifier.features(net, test_x))
    ref, rows["real neighbourhoods (once per run)"] = timed(lambda: quality.Reference.of(real_f))
    z = np.random.default_rng(0).standard_normal((args.n, model.latent_dim))
    images, rows["decode the samples"] = timed(lambda: core.decode(model, z))
    fake_f, rows["features of the samples"] = timed(lambda: classifier.features(net, images))
    _, rows["Fréchet distance"] = timed(lambda: quality.frechet_distance(ref.features, fake_f))
    ours, rows["precision, recall, density, coverage"] = timed(
        lambda: quality.precision_recall_density_coverage(ref, fake_f.numpy()))
    for m in core.METHODS:
        n = ppl.GEODESIC_N if m == "geodesic" else ppl.N
        _, rows[f"path length, {m} ({n:,} paths)"] = timed(lambda: ppl.path_length(model, net, m, n))
    with contextlib.redirect_stdout(io.StringIO()):
        (k3, k5), reference = timed(lambda: (prdc.compute_prdc(real_f.numpy(), fake_f.numpy(), 3),
                                             prdc.compute_prdc(real_f.numpy(), fake_f.numpy(), 5)))
    assert abs(ours["precision"] - k3["precision"]) < 1e-9 and abs(ours["coverage"] - k5["coverage"]) < 1e-9
    for name, seconds in rows.items():
        print(f"{name:42s} {seconds:6.2f} s")
    total = sum(rows.values())
    print(f"{'all measures of one model, one sampler':42s} {total:6.2f} s  "
          f"{'PASS' if total <= 60 else 'MISS'} (target <= 60 s)")
    per_row = rows["precision, recall, density, coverage"]
    print(f"precision/recall/density/coverage per row: ours {per_row:.2f} s, prdc twice {reference:.2f} s, "
          f"{reference / per_row:.1f}x")


if __name__ == "__main__":
    main()
