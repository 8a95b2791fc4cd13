"""`latentwalk measure`: the sample and path measures of one run, for each sampler, beside the real-versus-real row.

Every row compares n generated images with the first n test images of the run's data set, on the features of
the shipped digit classifier (its name, SHA-256, feature size and accuracy go with every row). The real row
compares n training images with the same test images: the ceiling a model is read against (precision and
recall at k = 3 do not reach 1 even for real data). The network must serve the data: 1x28x28 images with
labels it classifies at least SERVES well; anything else is refused in one line, never resized.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from tqdm import tqdm

from ..errors import ConfigError, is_int, require, require_seed
from ..run import checkpoint
from ..run.model_source import Source, open_folder
from ..walk import core
from . import classifier, ppl, quality, samplers, stored

SERVES = 0.9
# The columns of a measure row, declared once: (key, title, format). The CLI's table, the notebook's HTML and the
# report's table all read them (`cells`).
COLUMNS = (("sampler", "sampler", "{}"), ("n", "n", "{}"), ("frechet_distance", "Fréchet", "{:.2f}"),
           ("precision", "precision", "{:.3f}"), ("recall", "recall", "{:.3f}"), ("density", "density", "{:.3f}"),
           ("coverage", "coverage", "{:.3f}"), ("class_entropy", "class entropy", "{:.3f}"),
           ("rarest_class", "rarest class", "{:.3f}"))


def cells(row) -> list[str]:
    """A row (a dict, or an object with the same fields) as the text of each column."""
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
    return [form.format(get(key)) for key, _, form in COLUMNS]


class Rows(list):
    """The rows `measure` returns (JSON-ready dicts), shown in Jupyter as the table `latentwalk measure` prints."""

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{title}</th>" for _, title, _ in COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in cells(r)) + "</tr>" for r in self)
        ppl = next((r["ppl"] for r in self if r.get("ppl")), None)
        lengths = "<p>path length: " + ", ".join(f"{m} {v:.2f}" for m, v in ppl.items()) + "</p>" if ppl else ""
        return f"<table><tr>{head}</tr>{body}</table>{lengths}"

    def lines(self, name: str) -> list[str]:
        """The table `latentwalk measure` prints for the model called `name`."""
        first, info = self[-1], self[-1]["network"]
        label = "model" if first["label"] == name else first["label"]
        table = [[title for _, title, _ in COLUMNS], *(cells(r) for r in self)]
        widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
        out = [f"{name}: {label} with z = {first['latent_dim']}; {first['n']:,} images per row against "
               f"{first['reference']}; features: {info['network']} ({info['features']}-d, "
               f"{100 * info['test_accuracy']:.2f}% test accuracy, SHA-256 {info['sha256'][:12]}…)"]
        out += ["  " + row[0].ljust(widths[0]) + "".join(f"  {c:>{w}s}" for c, w in zip(row[1:], widths[1:]))
                for row in table]
        if first["ppl"]:
            out.append(f"  path length over {first['ppl_paths']:,} prior paths ({first['ppl_geodesic_paths']:,} for "
                       f"the geodesic; ε = {first['ppl_epsilon']:g}): "
                       + ", ".join(f"{m} {v:.1f}" for m, v in first["ppl"].items()))
        return out


MIN_N = 10        # the k-nearest-neighbour measures need more samples than k + 1


def check_serves(digit_net: classifier.DigitNet, images: torch.Tensor, labels: torch.Tensor | None,
                 what: str) -> torch.Tensor:
    """The features of a data set's labelled test images, once the classifier is seen to read them well enough;
    else a one-line refusal."""
    shape = tuple(images.shape[1:])
    if not classifier.reads(shape):
        raise ConfigError(f"the feature network reads 1x28x28 grey digits; {what} holds {'x'.join(map(str, shape))} "
                          f"images: the measures need MNIST-like data (nothing is resized)")
    if labels is None:
        raise ConfigError(f"{what} has no labels: the measures need labelled test images to check that the "
                          f"feature network serves them")
    features = classifier.features(digit_net, images)
    acc = (digit_net.fc2(features).argmax(1) == labels).float().mean().item()
    if acc < SERVES:
        raise ConfigError(f"the feature network, trained on MNIST digits, classifies {100 * acc:.0f}% of {what}'s "
                          f"test images: it does not serve this data set (it needs >= {100 * SERVES:.0f}%)")
    return features


def _row(sampler: str, real: quality.Reference, images: np.ndarray | torch.Tensor, digit_net: classifier.DigitNet,
         start: float) -> dict:
    f = classifier.features(digit_net, images)
    digits = digit_net.fc2(f).argmax(1).numpy() if len(f) else np.zeros(0, int)
    return {"sampler": sampler, "n": len(f), **quality.against(real, f, digits),
            "seconds": round(time.perf_counter() - start, 2)}


def real_row(digit_net: classifier.DigitNet, real: quality.Reference, train_x: torch.Tensor, seed: int = 0) -> dict:
    """The ceiling: as many random training images as the reference holds, against it."""
    start, n = time.perf_counter(), len(real.features)
    pick = np.random.default_rng(seed).choice(len(train_x), n, replace=n > len(train_x))
    return _row("real", real, train_x[np.sort(pick)], digit_net, start)


def sampler_row(sampler: str, run: os.PathLike | None, model, digit_net: classifier.DigitNet, real: quality.Reference,
                train_x: torch.Tensor, seed: int = 0, log: Callable[[str], None] = print) -> dict:
    """As many images from `sampler` as the reference holds, decoded and measured against it (`run`: the run
    folder that keeps its fitted mixture, None for an outside model)."""
    start = time.perf_counter()
    gmm = samplers.mixture(run, model, train_x, log) if sampler == "gmm" else None
    z = samplers.draw(sampler, model, len(real.features), seed, train_x, gmm)
    row = _row(sampler, real, core.decode(model, z), digit_net, start)
    if gmm is not None:
        row.update(gmm_dims=len(gmm.dims), gmm_covariance=gmm.covariance_type, gmm_fit_seconds=round(gmm.fit_seconds, 2))
    return row


def measure(source: Source | str | os.PathLike, which: Sequence[str] = samplers.SAMPLERS, n: int = 10_000,
            seed: int = 0, paths: int = ppl.N, geodesic_paths: int = ppl.GEODESIC_N,
            log: Callable[[str], None] = print) -> Rows:
    """One JSON-ready row for the real data and for each sampler of `which`: every measure of a model (a run
    folder, or a Source of any model), also stored in the run folder if it has one (stored.py). The path
    length takes `paths` prior paths per closed-form method and `geodesic_paths` geodesics (each an
    optimisation)."""
    unknown = [s for s in which if s not in samplers.SAMPLERS]
    require(len(which) > 0 and not unknown, f"unknown sampler {', '.join(unknown) or '(none)'}: use "
                                            f"{', '.join(samplers.SAMPLERS)} (comma-separated)")
    require(is_int(n) and n >= MIN_N, f"`n` must be an integer >= {MIN_N}, got {n!r}")
    require(is_int(paths) and 100 <= paths <= 100_000, f"`paths` must be an integer in 100..100,000, got {paths!r}")
    require(is_int(geodesic_paths) and 10 <= geodesic_paths <= 1000,
            f"`geodesic_paths` must be an integer in 10..1,000, got {geodesic_paths!r}")
    require_seed(seed)
    if not isinstance(source, Source):
        source = open_folder(source)
    source.needs("the measures", "data")
    coded = [s for s in dict.fromkeys(which) if s != "prior"]
    if coded:
        source.needs(f"`sampler` {','.join(coded)} (prior alone does not)", "encode")
    counts = ppl.path_counts(paths, geodesic_paths)
    model, run = source.model, source.run
    if run is not None:                 # the files it will write, refused now if they are not plain files
        for name in (stored.FILE, samplers.GMM_FILE):
            checkpoint.run_file(run, name)
    data = source.data_name
    digit_net = classifier.load()
    test_x, test_y = source.test_data()
    test_f = check_serves(digit_net, test_x, test_y, data)
    require(n <= len(test_x), f"`n` must be at most {len(test_x):,}, the test images of {data}")
    train_x = source.train_data()[0]
    real = quality.Reference.of(test_f[:n])
    methods = core.methods_of(model) if model.precise else ()
    if not model.precise:
        log("path length left out: decode gives 16-bit images, too coarse for its steps of 1e-4")
    elif methods != core.METHODS:
        log("geodesic path length left out: it needs gradients through decode(z)")
    steps = ["real", *dict.fromkeys(which), *(f"ppl {m}" for m in methods)]
    rows, lengths, seconds = [], {}, {}
    with tqdm(steps, desc="measure", unit="step", disable=None, file=sys.stderr) as bar:
        for step in bar:
            bar.set_postfix_str(step)
            start = time.perf_counter()
            if step == "real":
                rows.append(real_row(digit_net, real, train_x, seed))
            elif step.startswith("ppl "):
                lengths[step[4:]] = ppl.path_length(model, digit_net, step[4:], counts[step[4:]], seed=seed)
                seconds[step[4:]] = round(time.perf_counter() - start, 2)
            else:
                rows.append(sampler_row(step, run, model, digit_net, real, train_x, seed, log))
    if run is not None and stored.store(run, model.weights_sha256, rows,
                                        {m: (v, counts[m]) for m, v in lengths.items()}) is None:
        log(stored.not_stored(run))
    about = {"run": str(run) if run is not None else source.name, "model": model.kind, "label": model.label,
             "latent_dim": model.latent_dim, "reference": f"the first {n:,} test images", "network": classifier.INFO}
    path_info = {"ppl": {m: round(v, 4) for m, v in lengths.items()}, "ppl_paths": paths,
                 "ppl_geodesic_paths": geodesic_paths, "ppl_epsilon": ppl.EPSILON, "ppl_seconds": seconds}
    return Rows({**row, **(path_info if row["sampler"] != "real" else {}), **about} for row in rows)
