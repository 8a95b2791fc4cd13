"""The figure commands of the CLI (`latentwalk grid RUN`, …): each takes the opened model (run/source.py: a run
folder, a pythae folder or an entry point), says up front what it needs of it (NEEDS), calls the gallery and
returns its outputs with the lines worth reading on the terminal; `run` writes the outputs and prints the
files written, then those lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import is_int, require
from ..measure import attributes, classifier, curves, scores
from ..run import checkpoint
from ..run.source import Source
from ..walk import core
from . import gallery, output

Result = tuple[list, list[str]]          # outputs, lines to print after the files


def _scorers(args, model=None) -> list:
    """The scorers of a figure: the digit classifier's only for images it reads (1x28x28), as in the explorer."""
    off = getattr(args, "no_classifier", False) or (model is not None and not classifier.reads(model.image_shape))
    return scores.scorers(None if off else classifier.load())


def _compare(args, sources: list[Source]) -> Result:
    """F12 for two models; the test images of the second (the post's VAE) are drawn in both planes."""
    require(len(sources) == 2, f"compare takes two models (an AE run, then a VAE run, in the post), got "
                               f"{len(sources)}")
    for s in sources:
        s.needs("compare", "encode", "data")
        require(classifier.reads(s.model.image_shape), f"compare scores prior samples with the digit classifier, "
                                                       f"which reads 1x28x28 images; {s.name} decodes "
                                                       f"{'x'.join(map(str, s.model.image_shape))}")
    judged = _scorers(args)
    prior = [gallery.prior_walk(s.model, judged, args.n) for s in sources]
    return gallery.compare([s.model for s in sources], *sources[1].test_data(5000), prior), []


def _interpolate(args, source: Source) -> Result:
    model = source.model
    if args.source == "test":
        source.needs("interpolate --from test", "encode", "data")
    images = source.test_data()[0] if args.source == "test" else None
    shapes = gallery.interpolation_curves(model, [m.strip() for m in args.method.split(",")], args.steps,
                                          args.source, args.seed, args.pairs, images)
    walks = core.interpolations(model, shapes, args.steps, _scorers(args, model))
    numbers = None if args.no_classifier or not classifier.reads(model.image_shape) else \
        curves.compare(model, classifier.load(), shapes)
    outputs = gallery.interpolate(model, walks, args.source, numbers)
    if model.latent_dim == 2 and source.can_encode and source.has_data and model.differentiable:
        outputs += gallery.paths_plane(model, walks, *source.test_data(2000))    # shaded by the magnification
    if not numbers:
        return outputs, []
    pairs = len(next(iter(numbers.values()))["length"])
    return outputs, [f"{f'mean over {pairs} pair(s)':22s}" + "".join(f"{k:>14s}" for k in curves.NUMBERS),
                     *(f"  {m:20s}" + "".join(f"{row[k].mean():14.3f}" for k in curves.NUMBERS)
                       for m, row in numbers.items())]


def _arithmetic(args, source: Source) -> Result:
    """The vector from the training images, applied to test digits (for ATOB: digits A)."""
    require(is_int(args.n) and args.n >= 1, f"--n must be an integer >= 1, got {args.n!r}")
    model = source.model
    vector = attributes.vector(model, args.vector, *source.train_data())
    images, labels = source.test_data()
    digits = attributes.DIGITS.fullmatch(args.vector)
    pick = np.flatnonzero(labels.numpy() == int(digits[1]))[:args.n] if digits else np.arange(min(args.n, len(images)))
    outputs = gallery.arithmetic(model, args.vector, vector, images[pick], args.max_scale, args.steps,
                                 _scorers(args, model))
    table = outputs[-1].columns
    scales = np.unique(table["scale"])
    if digits and "digit" in table:
        what, column = f"share judged {digits[2]}", (table["digit"] == int(digits[2])).astype(float)
    else:
        name = "thickness" if digits else args.vector
        what, column = f"mean {name} of the decoded digits", table[name]
    return outputs, [f"{what}, scale {scales[0]:+.1f} … {scales[-1]:+.1f}: "
                     + " ".join(f"{column[table['scale'] == s].mean():.3f}" for s in scales)]


def _analogy(args, source: Source) -> Result:
    model = source.model
    images = source.test_data()[0]
    require(len(args.corners) == 3 and all(0 <= i < len(images) for i in args.corners),
            f"--corners takes three test image indices in 0..{len(images) - 1}, got {','.join(map(str, args.corners))}")
    return gallery.analogy(model, images[list(args.corners)], args.size, args.method, _scorers(args, model)), []


MODEL_COMMANDS: dict[str, Callable] = {
    "summary": lambda args, s: (gallery.model_summary(s.model), []),
    "grid": lambda args, s: (gallery.grid(s.model, args.size, tuple(args.extent), args.dims and tuple(args.dims),
                                          args.fix, args.gaussian), []),
    "scatter": lambda args, s: (gallery.scatter(s.model, *s.test_data(args.limit), args.dims and tuple(args.dims)),
                                []),
    "samples": lambda args, s: (gallery.samples(s.model, s.test_data(args.n)[0], args.n, args.seed), []),
    "traverse": lambda args, s: (gallery.traverse(s.model, args.steps, args.span), []),
    "spiral": lambda args, s: (gallery.spiral(s.model, args.steps, args.fps, args.gif, _scorers(args, s.model)), []),
    "sphere-walk": lambda args, s: (gallery.sphere_walk(s.model, args.steps, args.loops, args.fps, args.gif,
                                                        _scorers(args, s.model)), []),
    "interpolate": _interpolate,
    "arithmetic": _arithmetic,
    "analogy": _analogy,
}
# What each command needs beyond decode(z): a model without it is refused in one line before any work
NEEDS = {"scatter": ("encode", "data"), "samples": ("encode", "data"), "arithmetic": ("encode", "data"),
         "analogy": ("encode", "data")}
COMMANDS = (*MODEL_COMMANDS, "geometry", "compare")


def run(args, sources: list[Source] = ()) -> None:
    """Run the figure command `args.command` on the opened models `sources` (none for geometry, two for
    compare, else one), write its outputs, print each file written and its numbers."""
    if args.command == "geometry":
        out, (outputs, lines) = args.out or Path("figures"), (gallery.geometry_figures(list(args.dims)), [])
    elif args.command == "compare":
        outputs, lines = _compare(args, sources)
        out = args.out or _default_out(sources[1])
    else:
        (source,) = sources
        source.needs(args.command, *NEEDS.get(args.command, ()))
        out = args.out or _default_out(source)
        outputs, lines = MODEL_COMMANDS[args.command](args, source)
    for f in output.write(outputs, out):
        print(f"wrote {f}")
    for line in lines:
        print(line)


def _default_out(source: Source) -> Path:
    """RUN/figures for a run folder (a link there would write elsewhere: refused); figures/ for an outside model,
    whose folder is not ours to write in."""
    return checkpoint.run_file(source.run, "figures") if source.run is not None else Path("figures")
