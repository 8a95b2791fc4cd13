"""`latentwalk evaluate` (the likelihood of a run) and `latentwalk measure` (its samples and paths)."""

from __future__ import annotations

import json
import sys

from ..command import Arg, Command
from ..models.device import choose_device
from ..run import checkpoint
from ..run.model_source import Source
from .evaluate import evaluate


def evaluate_run(source: Source, k: int, limit: int | None, as_json: bool, device: str) -> None:
    """Print the test -ELBO, the IWAE bound, active units (or one JSON object)."""
    cfg = checkpoint.load_config(source.run)
    model = source.model.to(choose_device(device))
    images, _ = source.test_data(limit)
    result = evaluate(model, images, k=k, binarize=cfg.data.binarize)
    if as_json:
        print(json.dumps(result))
        return
    print(f"{source.run}: {result['model'].upper()} with z = {result['latent_dim']}, {result['images']} test images")
    print(f"  -ELBO        {result['neg_elbo']:9.2f} nats  (recon {result['recon']:.2f} + KL {result['kl']:.2f})")
    if result["nll_iwae"] is not None:
        print(f"  NLL IWAE-{result['k']:<4d}{result['nll_iwae']:9.2f} nats")
    print(f"  active units {result['active_units']} of {result['latent_dim']}")


def measure_model(source: Source, sampler: str, n: int, paths: int, geodesic_paths: int, seed: int,
                  as_json: bool) -> None:
    """Print every measure of the model: a table, or one JSON object per row."""
    from .model_measures import measure

    rows = measure(source, [s.strip() for s in sampler.split(",")], n, seed, paths, geodesic_paths,
                   log=lambda s: print(s, file=sys.stderr))
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    for line in rows.lines(source.name):
        print(line)


EVALUATE = Command("evaluate", "test -ELBO, importance-weighted NLL, KL per dimension, active units", evaluate_run,
                   models="one", needs=("run",), args=(
                       Arg("--k", type=int, default=5000, help="importance samples per image (default 5000)"),
                       Arg("--limit", type=int, help="evaluate on the first N test images only"),
                       Arg("--json", dest="as_json", action="store_true", help="print one JSON object"),
                       Arg("--device", default="auto")))
MEASURE = Command("measure", "Fréchet distance, precision/recall, density/coverage, classes, path length",
                  measure_model, models="one", args=(
                      Arg("--sampler", default="prior,gmm,posterior",
                          help="comma-separated: prior, gmm (a mixture fitted to the training codes), posterior "
                               "(default all three)"),
                      Arg("--n", type=int, default=10_000, help="generated and real images per row (default 10000)"),
                      Arg("--paths", type=int, default=10_000, help="random paths per method for the path length "
                                                                    "(default 10000)"),
                      Arg("--geodesic-paths", type=int, default=100,
                          help="random geodesics for its path length, each an optimisation (default 100)"),
                      Arg("--seed", type=int, default=0),
                      Arg("--json", dest="as_json", action="store_true",
                          help="print one JSON object per row")))
COMMANDS = (EVALUATE, MEASURE)
