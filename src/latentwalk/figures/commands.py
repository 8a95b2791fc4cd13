"""The figure commands (`latentwalk grid RUN`, …), one declaration each: the opened model (run/model_source.py: a run
folder, a pythae folder or an entry point) and what the command needs of it, its arguments, and the gallery
call that makes its outputs with the lines worth reading on the terminal; each writes the outputs and prints
the files written, then those lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..command import Arg, Command
from ..errors import is_int, require
from ..measure import attributes, classifier, curves, scores
from ..run import checkpoint
from ..run.model_source import Source
from ..settings import ints
from ..walk import core
from . import gallery, output

Result = tuple[list, list[str]]          # outputs, lines to print after the files


def _scorers(no_classifier: bool, model=None) -> list:
    """The scorers of a figure: the digit classifier's only for images it reads (1x28x28), as in the explorer."""
    off = no_classifier or (model is not None and not classifier.reads(model.image_shape))
    return scores.scorers(None if off else classifier.load())


def _side_by_side(sources: list[Source], n: int, no_classifier: bool = False) -> Result:
    """F12 for two models; the test images of the second (the post's VAE) are drawn in both planes."""
    require(len(sources) == 2, f"compare takes two models (an AE run, then a VAE run, in the post), got "
                               f"{len(sources)}")
    for s in sources:
        s.needs("compare", "encode", "data")
        require(classifier.reads(s.model.image_shape), f"compare scores prior samples with the digit classifier, "
                                                       f"which reads 1x28x28 images; {s.name} decodes "
                                                       f"{'x'.join(map(str, s.model.image_shape))}")
    judged = _scorers(no_classifier)
    prior = [gallery.prior_walk(s.model, judged, n) for s in sources]
    return gallery.side_by_side([s.model for s in sources], *sources[1].test_data(5000), prior), []


def _interpolate(source: Source, no_classifier: bool, method: str, steps: int, origin: str, pairs: int,
                 seed: int) -> Result:
    model = source.model
    if origin == "test":
        source.needs("interpolate `origin` test", "encode", "data")
    images = source.test_data()[0] if origin == "test" else None
    shapes = gallery.interpolation_curves(model, [m.strip() for m in method.split(",")], steps, origin, seed, pairs,
                                          images)
    walks = core.interpolations(model, shapes, steps, _scorers(no_classifier, model))
    numbers = None if no_classifier or not classifier.reads(model.image_shape) else \
        curves.numbers(model, classifier.load(), shapes)
    outputs = gallery.interpolate(model, walks, origin, numbers)
    if model.latent_dim == 2 and source.can_encode and source.has_data and model.differentiable:
        outputs += gallery.paths_plane(model, walks, *source.test_data(2000))    # shaded by the magnification
    if not numbers:
        return outputs, []
    count = len(next(iter(numbers.values()))["length"])
    return outputs, [f"{f'mean over {count} pair(s)':22s}" + "".join(f"{k:>14s}" for k in curves.NUMBERS),
                     *(f"  {m:20s}" + "".join(f"{row[k].mean():14.3f}" for k in curves.NUMBERS)
                       for m, row in numbers.items())]


def _arithmetic(source: Source, no_classifier: bool, vector: str, max_scale: float, steps: int, n: int) -> Result:
    """The vector from the training images, applied to test digits (for ATOB: digits A)."""
    require(is_int(n) and n >= 1, f"`n` must be an integer >= 1, got {n!r}")
    model = source.model
    direction = attributes.vector(model, vector, *source.train_data())
    images, labels = source.test_data()
    digits = attributes.DIGITS.fullmatch(vector)
    pick = np.flatnonzero(labels.numpy() == int(digits[1]))[:n] if digits else np.arange(min(n, len(images)))
    outputs = gallery.arithmetic(model, vector, direction, images[pick], max_scale, steps,
                                 _scorers(no_classifier, model))
    table = outputs[-1].columns
    scales = np.unique(table["scale"])
    if digits and "digit" in table:
        what, column = f"share judged {digits[2]}", (table["digit"] == int(digits[2])).astype(float)
    else:
        name = "thickness" if digits else vector
        what, column = f"mean {name} of the decoded digits", table[name]
    return outputs, [f"{what}, scale {scales[0]:+.1f} … {scales[-1]:+.1f}: "
                     + " ".join(f"{column[table['scale'] == s].mean():.3f}" for s in scales)]


def _analogy(source: Source, no_classifier: bool, corners: tuple[int, ...], size: int, method: str) -> Result:
    model = source.model
    images = source.test_data()[0]
    require(len(corners) == 3 and all(0 <= i < len(images) for i in corners),
            f"`corners` takes three test image indices in 0..{len(images) - 1}, got {','.join(map(str, corners))}")
    return gallery.analogy(model, images[list(corners)], size, method, _scorers(no_classifier, model)), []


def _written(make: Callable[..., Result], default_out: Callable[[dict], Path]) -> Callable[..., None]:
    """A figure command: make its outputs, write them to `out` (or its default folder), print each file written
    and the lines worth reading on the terminal."""
    def run(out: Path | None = None, **arguments) -> None:
        outputs, lines = make(**arguments)
        for f in output.write(outputs, out or default_out(arguments)):
            print(f"wrote {f}")
        for line in lines:
            print(line)
    return run


def _default_out(arguments: dict) -> Path:
    """RUN/figures for a run folder (a link there would write elsewhere: refused); figures/ for an outside model,
    whose folder is not ours to write in. compare writes beside its second model."""
    source = arguments["source"] if "source" in arguments else arguments["sources"][-1]
    return checkpoint.run_file(source.run, "figures") if source.run is not None else Path("figures")


def _figure(name: str, help: str, make: Callable[..., Result], *args: Arg, models: str | None = "one",
            needs: tuple[str, ...] = (), models_help: str = "a run folder made by `latentwalk train`") -> Command:
    out = Arg("--out", type=Path, help="output folder (default RUN/figures; figures/ for an outside model)")
    default = _default_out if models else (lambda arguments: Path("figures"))
    return Command(name, help, _written(make, default), args=(out, *args), models=models, needs=needs,
                   models_help=models_help)


def _classifier() -> Arg:
    return Arg("--no-classifier", action="store_true", help="skip the digit classifier's scores")


def _video(steps: int) -> tuple[Arg, ...]:
    return (Arg("--steps", type=int, default=steps, help=f"points on the path = frames (default {steps})"),
            Arg("--fps", type=int, default=30, help="frames per second (default 30)"),
            Arg("--gif", action="store_true", help="also write a half-size GIF"), _classifier())


def _dims(help: str) -> Arg:
    return Arg("--dims", type=int, nargs=2, metavar=("I", "J"), help=help)


COMMANDS = (
    _figure("summary", "F1: the model as a diagram", lambda source: (gallery.model_summary(source.model), [])),
    _figure("grid", "F2: decode a square grid of a latent plane into one mosaic",
            lambda source, size, extent, gaussian, dims, fix: (
                gallery.grid(source.model, size, tuple(extent), dims and tuple(dims), fix, gaussian), []),
            Arg("--size", type=int, default=20, help="points per side (default 20)"),
            Arg("--extent", type=float, nargs=2, default=(-3.0, 3.0), metavar=("MIN", "MAX"),
                help="range of both axes in z units (default -3 3)"),
            Arg("--gaussian", action="store_true", help="grid of the prior's quantiles instead of even steps"),
            _dims("the two dimensions (needed for d > 2)"),
            Arg("--fix", type=float, default=0.0, help="value of the other dimensions (default 0)")),
    _figure("scatter", "the encoded test set over the prior, coloured by digit",
            lambda source, limit, dims: (gallery.scatter(source.model, *source.test_data(limit),
                                                         dims and tuple(dims)), []),
            Arg("--limit", type=int, default=5000, help="test images to encode (default 5000)"),
            _dims("dimensions (default: largest KL)"), needs=("encode", "data")),
    _figure("samples", "decoded prior samples, test images and their reconstructions",
            lambda source, n, seed: (gallery.samples(source.model, source.test_data(64)[0], n, seed), []),
            Arg("--n", type=int, default=16, help="images per row (default 16)"),
            Arg("--seed", type=int, default=0), needs=("encode", "data")),
    _figure("traverse", "sweep each latent dimension alone",
            lambda source, steps, span: (gallery.traverse(source.model, steps, span), []),
            Arg("--steps", type=int, default=11),
            Arg("--span", type=float, default=3.0, help="sweep from -SPAN to SPAN (default 3)")),
    _figure("spiral", "F3: the post's spiral through a 2-D latent plane, as a video",
            lambda source, steps, fps, gif, no_classifier: (gallery.spiral(
                source.model, steps, fps, gif, _scorers(no_classifier, source.model)), []),
            *_video(300)),
    _figure("sphere-walk", "F6-F8: a walk on the sqrt(d) sphere, as figures and a video",
            lambda source, steps, fps, gif, no_classifier, loops: (gallery.sphere_walk(
                source.model, steps, loops, fps, gif, _scorers(no_classifier, source.model)), []),
            *_video(600), Arg("--loops", type=int, default=20, help="turns of the last angle (default 20)")),
    _figure("interpolate", "F10-F11: lerp, slerp, nlerp and geodesics between two codes", _interpolate,
            _classifier(),
            Arg("--method", default="lerp,slerp,nlerp", help="comma-separated: lerp, slerp, nlerp, geodesic"),
            Arg("--steps", type=int, default=11, help="points per path (default 11: odd, so t = 1/2 is one)"),
            Arg("--from", dest="origin", default="prior", metavar="SOURCE", help="endpoints: prior (default) or test"),
            Arg("--pairs", type=int, default=1, help="endpoint pairs to score (default 1)"),
            Arg("--seed", type=int, default=0)),
    _figure("arithmetic", "test digits moved along an attribute vector", _arithmetic, _classifier(),
            Arg("--vector", required=True, help="ATOB digits (3to8: mean code of the 8s minus the 3s), thickness "
                                                "or slant (top quartile minus bottom quartile)"),
            Arg("--max-scale", type=float, default=2.0, help="scales from -MAX to MAX (default 2)"),
            Arg("--steps", type=int, default=9, help="scales per row (default 9)"),
            Arg("--n", type=int, default=8, help="test digits, one per row (for ATOB: digits A; default 8)"),
            needs=("encode", "data")),
    _figure("analogy", "a J-diagram: A is to B as C is to B + C - A", _analogy, _classifier(),
            Arg("--corners", type=ints, default=(0, 1, 2), help="test images A,B,C by index (default 0,1,2)"),
            Arg("--size", type=int, default=5, help="grid points per side (default 5)"),
            Arg("--method", default="lerp", help="lerp (default) or slerp along both axes"),
            needs=("encode", "data")),
    _figure("geometry", "F4-F7, F9: high-dimensional geometry, no model needed",
            lambda dims: (gallery.geometry_figures(list(dims)), []),
            Arg("--dims", type=ints, default=(1, 2, 10, 100, 500), help="dimensions of the norm histograms"),
            models=None),
    _figure("compare", "F12: two models side by side (the post: an AE, then a VAE): latent coverage and prior "
                       "samples", _side_by_side,
            Arg("--n", type=int, default=1000, help="prior samples to judge (default 1000)"),
            models="many", models_help="two models: run folders (an AE, then a VAE)"),
)
