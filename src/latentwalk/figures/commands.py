"""The figure commands of the CLI (`latentwalk grid RUN`, …): each loads what it needs, calls the gallery and
returns its outputs with the lines worth reading on the terminal; `run` writes the outputs and prints the
files written, then those lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import ConfigError, is_int, require
from ..measure import attributes, classifier, curves, scores
from ..run import checkpoint
from ..walk import core
from . import gallery, output

Result = tuple[list, list[str]]          # outputs, lines to print after the files


def _scorers(args) -> list:
    return scores.scorers(None if getattr(args, "no_classifier", False) else classifier.load())


def _compare(args) -> Result:
    ae, vae = checkpoint.load(args.ae_run), checkpoint.load(args.vae_run)
    if ae.config.kind != "ae" or vae.config.kind != "vae":
        raise ConfigError("compare takes an AE run, then a VAE run")
    judged = _scorers(args)
    prior = {m.config.kind: gallery.prior_walk(m, judged, args.n) for m in (ae, vae)}
    return gallery.compare(ae, vae, *checkpoint.test_data(args.vae_run, 5000), prior), []


def _interpolate(args, model) -> Result:
    images = checkpoint.test_data(args.run)[0] if args.source == "test" else None
    shapes = gallery.interpolation_curves(model, [m.strip() for m in args.method.split(",")], args.steps,
                                          args.source, args.seed, args.pairs, images)
    walks = core.interpolations(model, shapes, args.steps, _scorers(args))
    numbers = None if args.no_classifier else curves.compare(model, classifier.load(), shapes)
    outputs = gallery.interpolate(model, walks, args.source, numbers)
    if model.latent_dim == 2:
        outputs += gallery.paths_plane(model, walks, *checkpoint.test_data(args.run, 2000))
    if not numbers:
        return outputs, []
    pairs = len(next(iter(numbers.values()))["length"])
    return outputs, [f"{f'mean over {pairs} pair(s)':22s}" + "".join(f"{k:>14s}" for k in curves.NUMBERS),
                     *(f"  {m:20s}" + "".join(f"{row[k].mean():14.3f}" for k in curves.NUMBERS)
                       for m, row in numbers.items())]


def _arithmetic(args, model) -> Result:
    """The vector from the training images, applied to test digits (for ATOB: digits A)."""
    require(is_int(args.n) and args.n >= 1, f"--n must be an integer >= 1, got {args.n!r}")
    vector = attributes.vector(model, args.vector, *checkpoint.train_data(args.run))
    images, labels = checkpoint.test_data(args.run)
    digits = attributes.DIGITS.fullmatch(args.vector)
    pick = np.flatnonzero(labels.numpy() == int(digits[1]))[:args.n] if digits else np.arange(min(args.n, len(images)))
    outputs = gallery.arithmetic(model, args.vector, vector, images[pick], args.max_scale, args.steps, _scorers(args))
    table = outputs[-1].columns
    scales = np.unique(table["scale"])
    if digits and "digit" in table:
        what, column = f"share judged {digits[2]}", (table["digit"] == int(digits[2])).astype(float)
    else:
        name = "thickness" if digits else args.vector
        what, column = f"mean {name} of the decoded digits", table[name]
    return outputs, [f"{what}, scale {scales[0]:+.1f} … {scales[-1]:+.1f}: "
                     + " ".join(f"{column[table['scale'] == s].mean():.3f}" for s in scales)]


def _analogy(args, model) -> Result:
    images = checkpoint.test_data(args.run)[0]
    require(len(args.corners) == 3 and all(0 <= i < len(images) for i in args.corners),
            f"--corners takes three test image indices in 0..{len(images) - 1}, got {','.join(map(str, args.corners))}")
    return gallery.analogy(model, images[list(args.corners)], args.size, args.method, _scorers(args)), []


MODEL_COMMANDS: dict[str, Callable] = {
    "summary": lambda args, model: (gallery.model_summary(model), []),
    "grid": lambda args, model: (gallery.grid(model, args.size, tuple(args.extent), args.dims and tuple(args.dims),
                                              args.fix, args.gaussian), []),
    "scatter": lambda args, model: (gallery.scatter(model, *checkpoint.test_data(args.run, args.limit),
                                                    args.dims and tuple(args.dims)), []),
    "samples": lambda args, model: (gallery.samples(model, checkpoint.test_data(args.run, args.n)[0], args.n,
                                                    args.seed), []),
    "traverse": lambda args, model: (gallery.traverse(model, args.steps, args.span), []),
    "spiral": lambda args, model: (gallery.spiral(model, args.steps, args.fps, args.gif, _scorers(args)), []),
    "sphere-walk": lambda args, model: (gallery.sphere_walk(model, args.steps, args.loops, args.fps, args.gif,
                                                            _scorers(args)), []),
    "interpolate": _interpolate,
    "arithmetic": _arithmetic,
    "analogy": _analogy,
}
COMMANDS = (*MODEL_COMMANDS, "geometry", "compare")


def run(args) -> None:
    """Run the figure command `args.command`, write its outputs, print each file written and its numbers."""
    if args.command == "geometry":
        out, (outputs, lines) = args.out or Path("figures"), (gallery.geometry_figures(list(args.dims)), [])
    elif args.command == "compare":
        out, (outputs, lines) = args.out or checkpoint.run_file(args.vae_run, "figures"), _compare(args)
    else:
        model = checkpoint.load(args.run)
        out = args.out or checkpoint.run_file(args.run, "figures")    # a link there would write elsewhere
        outputs, lines = MODEL_COMMANDS[args.command](args, model)
    for f in output.write(outputs, out):
        print(f"wrote {f}")
    for line in lines:
        print(line)
