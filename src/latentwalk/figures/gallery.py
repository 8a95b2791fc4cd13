"""Every figure of the post for a trained model: build the path, walk it through the walk core, draw.

One function per figure, each returning its pictures and score tables in memory (see output.py); the CLI
writes them into a folder, the demo writes them and hands the same bytes to the report.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError, is_int, require, require_seed
from ..measure import attributes, scores
from ..models import AutoEncoder, Model
from ..models.autoencoder import codes
from ..walk import arithmetic as arithmetic_
from ..walk import core, geodesic, paths
from ..walk.core import Scorer, Walk
from . import animate, draw
from .output import Picture, Table

Outputs = list[Picture | Table]


def _name(model: Model) -> str:
    return f"{model.label} z={model.latent_dim}"


def _check_dims(model: Model, dims: tuple[int, int] | None, what: str) -> tuple[int, int]:
    d = model.latent_dim
    require(d >= 2, f"{what} shows a plane of two latent dimensions; this model has z = 1")
    if dims is None:
        require(d == 2, f"{what} of a {d}-D model needs `dims` I J: the two latent dimensions to show "
                        f"(0..{d - 1}); the others are held at `fix`")
        return 0, 1
    i, j = dims
    require(is_int(i) and is_int(j) and 0 <= i < d and 0 <= j < d and i != j,
            f"`dims` must be two different dimensions in 0..{d - 1}, got {i} {j}")
    return i, j


def model_summary(model: Model) -> Outputs:
    """F1: the encoder -> z -> decoder diagram (an outside model's networks are its own: their sizes unknown)."""
    if not isinstance(model, AutoEncoder):
        pixels, shape = int(np.prod(model.image_shape)), "x".join(map(str, model.image_shape))
        title = (f"{_name(model)}: {shape} images through its own networks"
                 + ("" if model.can_encode else " (no encoder: decode only)"))
        return [draw.model_diagram("vae" if model.variational else "ae", [pixels], model.latent_dim, "model", title)]
    cfg = model.config
    sizes = [int(np.prod(cfg.image_shape)), *cfg.hidden]
    title = (f"{_name(model)}: {'-'.join(map(str, sizes))}-{cfg.latent_dim} "
             f"({cfg.arch.upper()}, {cfg.activation}, {cfg.likelihood})")
    return [draw.model_diagram(cfg.kind, sizes, cfg.latent_dim, "model", title)]


def grid(model: Model, size: int = 20, extent: tuple[float, float] = (-3.0, 3.0),
         dims: tuple[int, int] | None = None, fix: float = 0.0, gaussian: bool = False) -> Outputs:
    """F2: decode a square grid of a latent plane (dims i, j; other dimensions held at `fix`) into a mosaic."""
    i, j = _check_dims(model, dims, "a grid")
    require(is_int(size) and 1 <= size <= MAX_GRID, f"`size` must be an integer in 1..{MAX_GRID}, got {size!r}")
    require(np.isfinite(fix), f"`fix` must be a finite number, got {fix}")
    plane = paths.gaussian_grid(size) if gaussian else paths.grid(size, extent)
    z = np.full((len(plane), model.latent_dim), float(fix))
    z[:, i], z[:, j] = plane[:, 0], plane[:, 1]
    w = core.walk(model, z, [scores.sharpness])
    kind = "Gaussian-quantile" if gaussian else f"[{extent[0]:g}, {extent[1]:g}]²"
    others = f", other dims = {fix:g}" if model.latent_dim > 2 else ""
    name = "grid_gaussian" if gaussian else "grid"
    picture = draw.latent_grid(w.images, size, (plane[:, 0].min(), plane[:, 0].max()), name,
                               (f"$z_{{{i + 1}}}$", f"$z_{{{j + 1}}}$"),
                               f"{_name(model)}: decoded {size}x{size} {kind} grid{others}",
                               axis=np.unique(plane[:, 0]) if gaussian else None)
    return [picture, Table(name, {f"z{i + 1}": z[:, i], f"z{j + 1}": z[:, j], **w.scores})]


def scatter(model: Model, images: torch.Tensor, labels: torch.Tensor | None,
            dims: tuple[int, int] | None = None) -> Outputs:
    """The encoded test set in a latent plane over the prior (d > 2: the plane of the walk core)."""
    mu, logvar = codes(model, images)
    if dims is None and model.latent_dim >= 2:
        i, j = core.plane(core.ranked_dims(mu, logvar)[0]) if model.latent_dim > 2 else (0, 1)
        note = "" if model.latent_dim == 2 else " (the two dimensions with the largest KL)"
    else:
        i, j = _check_dims(model, dims, "a scatter")
        note = ""
    plane = mu[:, [i, j]].numpy()
    return [draw.latent_scatter(plane, None if labels is None else labels.numpy(), "scatter",
                                (f"$z_{{{i + 1}}}$", f"$z_{{{j + 1}}}$"),
                                f"{_name(model)}: {len(plane)} encoded test images{note}")]


def samples(model: Model, images: torch.Tensor, n: int = 16, seed: int = 0) -> Outputs:
    """Random prior samples, and test images above their reconstructions."""
    require(is_int(n) and 1 <= n <= 64, f"`n` must be an integer in 1..64, got {n!r}")
    require_seed(seed)
    with torch.no_grad():
        drawn = model.sample(2 * n, seed=seed).cpu().numpy()
        x = images[:n]
        recon = model.reconstruct(x).cpu().numpy()
    originals = x.float().numpy() / 255
    return [draw.image_rows([("samples", drawn[:n]), ("", drawn[n:]), ("test images", originals),
                             ("reconstructions", recon)], "samples",
                            f"{_name(model)}: decoded prior samples z ~ N(0, I); test images and reconstructions")]


def traverse(model: Model, steps: int = 11, span: float = 3.0) -> Outputs:
    """Each latent dimension (the first 16) swept from -span to span alone, the others held at 0."""
    core.check_steps(steps, 2, 64)
    require(np.isfinite(span) and span > 0, f"`span` must be > 0, got {span}")
    base, values = np.zeros(model.latent_dim), np.linspace(-span, span, steps)
    rows = [(f"$z_{{{k + 1}}}$", core.decode(model, paths.traverse(base, k, values)))
            for k in range(min(model.latent_dim, 16))]
    return [draw.image_rows(rows, "traverse", f"{_name(model)}: one dimension at a time, the others at 0",
                            col_labels=[f"{v:g}" for v in values])]


MAX_GRID = 256            # points per side: 65,536 decoded images in one mosaic of 7,168 pixels square at 28x28
MAX_FRAMES = 10_000        # 5.5 min of video at 30 fps; each frame is drawn by matplotlib (about 20 ms)


def _check_video(steps: int, fps: int) -> None:
    require(is_int(steps) and 2 <= steps <= MAX_FRAMES and is_int(fps) and 1 <= fps <= 120,
            f"`steps` must be in 2..{MAX_FRAMES:,} and `fps` in 1..120, got {steps} and {fps}")


def spiral(model: Model, steps: int = 300, fps: int = 30, gif: bool = False,
           scorers: list[Scorer] = ()) -> Outputs:
    """F3: the post's spiral through the 2-D plane, as a three-panel animation, with per-frame scores."""
    _check_video(steps, fps)
    require(model.latent_dim == 2, f"the spiral walks a 2-D latent plane; this model has z = {model.latent_dim}")
    path, t = paths.spiral(steps), paths.spiral_parameter(steps)
    w = core.walk(model, path, scorers)
    video = animate.spiral(path, t, w.images, "spiral", fps, gif, f"{_name(model)}: the spiral "
                           f"x(t) = (0.2t − 2) sin t, y(t) = (0.2t − 2) cos t")
    return [video, Table("spiral", {"t": t, "z1": path[:, 0], "z2": path[:, 1], **w.scores})]


def sphere_walk(model: Model, steps: int = 600, loops: int = 20, fps: int = 30, gif: bool = False,
                scorers: list[Scorer] = ()) -> Outputs:
    """F6-F8: a walk on the sqrt(d) sphere, its 3-D and pairwise pictures, and the decoded animation."""
    _check_video(steps, fps)
    d = model.latent_dim
    require(d >= 2, f"a sphere walk needs d >= 2; this model has z = {d}")
    path = paths.sphere_walk(d, steps, loops)
    w = core.walk(model, path, scorers)
    out = [animate.sphere_walk(path, w.images, w.scores.get("confidence"), "sphere_walk", fps, gif,
                               f"{_name(model)}: a walk on the sphere of radius √{d} = {np.sqrt(d):.2f}"),
           draw.pair_projections(path, "sphere_walk_pairs")]
    if d >= 3:
        out.append(draw.sphere_3d(path[:, :3] / np.linalg.norm(path[:, :3], axis=1, keepdims=True).clip(1e-12)
                                  * np.sqrt(d), "sphere_walk_3d",
                                  f"First three coordinates of the walk, rescaled onto the radius-√{d} sphere"))
    return out + [Table("sphere_walk", w.scores)]


def interpolation_curves(model: Model, methods: list[str], steps: int = 11, origin: str = "prior",
                         seed: int = 0, pairs: int = 1, images: torch.Tensor | None = None) -> dict[str, core.Curve]:
    """The curves `interpolate` draws at `steps` points (core.interpolations): each method between `pairs`
    endpoint pairs from the walk core. Everything is checked before a geodesic is solved."""
    methods = core.check_methods(methods)
    core.check_steps(steps, 2, 64)
    return core.curves(model, methods, core.endpoints(model, origin, pairs, seed, images))


def interpolate(model: Model, walks: dict[str, list[Walk]], origin: str = "prior",
                numbers: dict[str, dict[str, np.ndarray]] | None = None) -> Outputs:
    """F10 and F11: decoded rows of each interpolation between two endpoints, and the norm along each path.

    With several pairs, the rows show the first pair; the norms, and the scores table, cover all of them.
    The notes beside each row give the scores at the middle step (t = 1/2 when the steps are odd). With
    `numbers` (measure.curves.numbers of the same curves), a table of them per pair and method too.
    """
    first = next(iter(walks.values()))
    pairs, steps = len(first), len(first[0].path)
    t = np.linspace(0, 1, steps)
    mid = steps // 2
    rows, notes = [], []
    for m, ws in walks.items():
        s = ws[0].scores
        rows.append((m, ws[0].images))
        note = f"t = {t[mid]:.2f}: |z| {s['norm'][mid]:.1f}"
        if "confidence" in s:
            note += f"\nconf. {s['confidence'][mid]:.2f}"
        notes.append(note + (f"\nsharp. {s['sharpness'][mid]:.3f}" if "sharpness" in s else ""))
    what = "prior samples on the √d shell" if origin == "prior" else "encoded test images"
    out = [draw.image_rows(rows, "interpolate", f"{_name(model)}: between two {what}",
                           col_labels=[f"{v:.2f}" for v in t], notes=notes),
           draw.norms_along(t, {m: np.stack([w.scores["norm"] for w in ws]) for m, ws in walks.items()},
                            model.latent_dim, "interpolate_norms",
                            f"{_name(model)}: |z| along the path ({pairs} pair{'s' * (pairs > 1)})")]
    columns = {"pair": np.repeat(np.arange(pairs), steps), "t": np.tile(t, pairs)}
    for m, ws in walks.items():
        for k in ws[0].scores:
            columns[f"{m}_{k}"] = np.concatenate([w.scores[k] for w in ws])
    out.append(Table("interpolate", columns))
    if numbers:
        per_path = {"pair": np.arange(pairs), **{f"{m}_{k}": v for m, row in numbers.items() for k, v in row.items()}}
        out.append(Table("interpolate_paths", per_path))
    return out


def paths_plane(model: Model, walks: dict[str, list[Walk]], images: torch.Tensor,
                labels: torch.Tensor | None, grid: int = 120) -> Outputs:
    """The walks of a 2-D model drawn over its latent plane, shaded by the decoder's magnification factor:
    the dark ridges are where the decoded digit changes fast."""
    require(model.latent_dim == 2, f"the plane of paths needs a 2-D model, got z = {model.latent_dim}")
    by_method = {m: np.stack([w.path for w in ws]) for m, ws in walks.items()}
    mu = codes(model, images)[0].numpy()
    ends = max(np.abs(p[:, [0, -1]]).max() for p in by_method.values())    # the frame holds the data and the
    extent = float(max(3.5, 1.1 * np.percentile(np.abs(mu), 99.5), 1.1 * ends))   # endpoints, not every detour
    axis = np.linspace(-extent, extent, grid)
    plane = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
    magnification = geodesic.magnification(model, plane).reshape(grid, grid)
    return [draw.paths_over_magnification(magnification, extent, by_method, mu,
                                          None if labels is None else labels.numpy(), "interpolate_plane",
                                          f"{_name(model)}: paths over the decoder's magnification")]


def geometry_figures(dims: list[int] = (1, 2, 10, 100, 500), walk_dim: int = 4) -> Outputs:
    """F4, F5, F6, F7 and F9: the geometry of high dimensions, no model needed."""
    require(all(is_int(d) and 1 <= d <= 2048 for d in dims), f"`dims` must be integers in 1..2048, got "
                                                               f"{','.join(map(str, dims))}")
    walk = paths.sphere_walk(walk_dim, 1500, 12, radius=1.0)
    return [draw.ball_volume_figure("ball_volume"), draw.norm_histograms(list(dims), "norms"),
            draw.sphere_3d(paths.sphere_walk(3, 1500, 12, radius=1.0), "sphere_3d"),
            draw.pair_projections(walk, "sphere_pairs", coords=walk_dim,
                                  title=f"A walk on the unit sphere in R^{walk_dim}: every pair of coordinates"),
            draw.lerp_slerp_geometry("lerp_slerp")]


def prior_walk(model: Model, scorers: list[Scorer], n: int = 1000, seed: int = 0) -> Walk:
    """`n` prior samples z ~ N(0, I), decoded and scored: where the AE's holes show."""
    require(is_int(n) and 1 <= n <= 100_000, f"`n` must be an integer in 1..100,000, got {n!r}")
    require_seed(seed)
    return core.walk(model, np.random.default_rng(seed).standard_normal((n, model.latent_dim)), scorers)


def side_by_side(models: list[Model], images: torch.Tensor, labels: torch.Tensor | None, prior: list[Walk]) -> Outputs:
    """F12: two models side by side (the post: an AE, then a VAE): latent scatters over the prior and their
    decoded prior samples (`prior`, scored by the classifier), with the share judged a clear digit."""
    dims = [m.latent_dim for m in models]
    if dims != [2, 2]:
        raise ConfigError(f"compare draws 2-D latent planes: got z = {' and z = '.join(map(str, dims))}")
    panels = []
    for model, w in zip(models, prior):
        panels.append({"name": _name(model), "codes": codes(model, images)[0].numpy(),
                       "labels": None if labels is None else labels.numpy(), "samples": w.images[:100],
                       "confidence": float(w.scores["confidence"].mean()),
                       "confident": scores.confident_share(w.scores["confidence"])})
    kinds = [m.kind.replace(" ", "_") for m in models]
    prefixes = kinds if len(set(kinds)) == len(kinds) else [f"{k}{i + 1}" for i, k in enumerate(kinds)]
    columns = {f"{p}_{name}": v for p, w in zip(prefixes, prior) for name, v in w.scores.items()}
    return [draw.side_by_side(panels, "compare"), Table("compare", columns)]


def arithmetic(model: Model, spec: str, vector: np.ndarray, images: torch.Tensor, max_scale: float = 2.0,
               steps: int = 9, scorers: list[Scorer] = ()) -> Outputs:
    """Test digits (one per row) moved along an attribute vector from -max_scale to +max_scale, with the
    scores and measured properties (thickness, slant) of every decoded image."""
    core.check_steps(steps, 2, 64)
    scales = np.linspace(-arithmetic_.check_scale(max_scale), max_scale, steps)
    moved = arithmetic_.along(codes(model, images)[0].numpy(), vector, scales)          # (n, steps, d)
    w = core.walk(model, moved.reshape(-1, model.latent_dim), scorers)
    n = len(images)
    rows = [(f"#{k + 1}", w.images[k * steps:(k + 1) * steps]) for k in range(n)]
    picture = draw.image_rows(rows, f"arithmetic_{spec}", f"{_name(model)}: test digits moved along the "
                              f"{spec} vector", col_labels=[f"{s:+.1f}" for s in scales])
    columns = {"row": np.repeat(np.arange(n), steps), "scale": np.tile(scales, n), **w.scores,
               **{name: measured(w.images) for name, measured in attributes.PROPERTIES.items()}}
    return [picture, Table(f"arithmetic_{spec}", columns)]


def analogy(model: Model, corners: torch.Tensor, size: int = 5, method: str = "lerp",
            scorers: list[Scorer] = ()) -> Outputs:
    """The J-diagram of three test images A, B, C (corners (3, C, H, W)): the grid from A, B, C to B + C - A."""
    require(len(corners) == 3, f"an analogy takes three corner images, got {len(corners)}")
    a, b, c = codes(model, corners)[0].double().numpy()
    grid = arithmetic_.analogy(a, b, c, size, method)
    w = core.walk(model, grid.reshape(-1, model.latent_dim), scorers)
    picture = draw.analogy_grid(w.images, size, corners.float().numpy() / 255 if corners.dtype == torch.uint8
                                else corners.numpy(), "analogy", f"{_name(model)}: A is to B as C is to "
                                f"B + C − A ({method})")
    rows, cols = np.divmod(np.arange(size * size), size)
    return [picture, Table("analogy", {"row": rows, "col": cols, **w.scores})]
