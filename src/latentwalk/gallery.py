"""Every figure of the post for a trained model: build the path, decode and score it, draw, write the numbers.

One function per figure, each writing into an output folder and returning the files it wrote; the CLI
commands and the report both call these. Scores go next to each figure as CSV and JSON.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from . import classifier, evaluate, explore, paths
from .errors import ConfigError, is_int, require
from .models import AutoEncoder
from .render import animate, figures

CONFIDENT = 0.9   # a decoded image "is a digit" when the classifier gives it at least this probability


def _name(model: AutoEncoder) -> str:
    return f"{model.config.kind.upper()} z={model.latent_dim}"


def _check_dims(model: AutoEncoder, dims: tuple[int, int] | None, what: str) -> tuple[int, int]:
    d = model.latent_dim
    if dims is None:
        require(d == 2, f"{what} of a {d}-D model needs --dims I J: the two latent dimensions to show "
                        f"(0..{d - 1}); the others are held at --fix")
        return 0, 1
    i, j = dims
    require(is_int(i) and is_int(j) and 0 <= i < d and 0 <= j < d and i != j,
            f"--dims must be two different dimensions in 0..{d - 1}, got {i} {j}")
    return i, j


def model_summary(model: AutoEncoder, out: Path) -> list[Path]:
    """F1: the encoder -> z -> decoder diagram."""
    cfg = model.config
    sizes = [int(np.prod(cfg.image_shape)), *cfg.hidden]
    title = (f"{_name(model)}: {'-'.join(map(str, sizes))}-{cfg.latent_dim} "
             f"({cfg.arch.upper()}, {cfg.activation}, {cfg.likelihood})")
    return figures.model_diagram(cfg.kind, sizes, cfg.latent_dim, out / "model", title)


def grid(model: AutoEncoder, out: Path, size: int = 20, extent: tuple[float, float] = (-3.0, 3.0),
         dims: tuple[int, int] | None = None, fix: float = 0.0, gaussian: bool = False) -> list[Path]:
    """F2: decode a square grid of a latent plane (dims i, j; other dimensions held at `fix`) into a mosaic."""
    i, j = _check_dims(model, dims, "a grid")
    require(np.isfinite(fix), f"--fix must be a finite number, got {fix}")
    plane = paths.gaussian_grid(size) if gaussian else paths.grid(size, extent)
    z = np.full((len(plane), model.latent_dim), float(fix))
    z[:, i], z[:, j] = plane[:, 0], plane[:, 1]
    w = explore.walk(model, z)
    kind = "Gaussian-quantile" if gaussian else f"[{extent[0]:g}, {extent[1]:g}]²"
    others = f", other dims = {fix:g}" if model.latent_dim > 2 else ""
    stem = out / ("grid_gaussian" if gaussian else "grid")
    files = figures.latent_grid(w.images, size, (plane[:, 0].min(), plane[:, 0].max()), stem,
                                (f"$z_{{{i + 1}}}$", f"$z_{{{j + 1}}}$"),
                                f"{_name(model)}: decoded {size}x{size} {kind} grid{others}",
                                axis=np.unique(plane[:, 0]) if gaussian else None)
    return files + explore.write_scores({f"z{i + 1}": z[:, i], f"z{j + 1}": z[:, j], **w.scores},
                                        stem.with_suffix(".csv"))


def _top_kl_dims(mu: torch.Tensor, logvar: torch.Tensor | None) -> tuple[int, int]:
    """The two dimensions carrying most KL (for an AE: most variance)."""
    weight = evaluate.kl_per_dim(mu, logvar) if logvar is not None else mu.var(0)
    i, j = torch.topk(weight, 2).indices.tolist()
    return i, j


def scatter(model: AutoEncoder, out: Path, images: torch.Tensor, labels: torch.Tensor | None,
            dims: tuple[int, int] | None = None) -> list[Path]:
    """The encoded test set in a latent plane over the prior (d > 2: the two dimensions with the largest KL)."""
    mu, logvar = evaluate.codes(model, images)
    if dims is None:
        i, j = (0, 1) if model.latent_dim == 2 else _top_kl_dims(mu, logvar)
        note = "" if model.latent_dim == 2 else " (the two dimensions with the largest KL)"
    else:
        i, j = _check_dims(model, dims, "a scatter")
        note = ""
    codes = mu[:, [i, j]].numpy()
    return figures.latent_scatter(codes, None if labels is None else labels.numpy(), out / "scatter",
                                  (f"$z_{{{i + 1}}}$", f"$z_{{{j + 1}}}$"),
                                  f"{_name(model)}: {len(codes)} encoded test images{note}")


def samples(model: AutoEncoder, out: Path, images: torch.Tensor, n: int = 16, seed: int = 0) -> list[Path]:
    """Random prior samples, and test images above their reconstructions."""
    require(is_int(n) and 1 <= n <= 64, f"--n must be an integer in 1..64, got {n!r}")
    with torch.no_grad():
        drawn = model.sample(2 * n, seed=seed).cpu().numpy()
        x = images[:n]
        recon = model.reconstruct(x).cpu().numpy()
    originals = x.float().numpy() / 255
    return figures.image_rows([("samples", drawn[:n]), ("", drawn[n:]), ("test images", originals),
                               ("reconstructions", recon)], out / "samples",
                              f"{_name(model)}: decoded prior samples z ~ N(0, I); test images and reconstructions")


def traverse(model: AutoEncoder, out: Path, steps: int = 11, span: float = 3.0, dims: list[int] | None = None,
             base: np.ndarray | None = None) -> list[Path]:
    """Each latent dimension swept from -span to span alone, the others held at `base` (default 0)."""
    d = model.latent_dim
    require(is_int(steps) and 2 <= steps <= 64, f"--steps must be an integer in 2..64, got {steps!r}")
    require(np.isfinite(span) and span > 0, f"--span must be > 0, got {span}")
    dims = list(range(min(d, 16))) if dims is None else dims
    require(all(is_int(k) and 0 <= k < d for k in dims), f"--dims must be in 0..{d - 1}")
    base = np.zeros(d) if base is None else base
    values = np.linspace(-span, span, steps)
    rows = [(f"$z_{{{k + 1}}}$", explore.decode(model, paths.traverse(base, k, values))) for k in dims]
    return figures.image_rows(rows, out / "traverse", f"{_name(model)}: one dimension at a time, the others at 0",
                              col_labels=[f"{v:g}" for v in values])


def spiral(model: AutoEncoder, out: Path, steps: int = 300, fps: int = 30, gif: bool = False,
           judge: classifier.DigitNet | None = None) -> list[Path]:
    """F3: the post's spiral through the 2-D plane, as a three-panel animation, with per-frame scores."""
    require(model.latent_dim == 2, f"the spiral walks a 2-D latent plane; this model has z = {model.latent_dim}")
    path, t = paths.spiral(steps), paths.spiral_parameter(steps)
    w = explore.walk(model, path, judge)
    files = animate.spiral(path, t, w.images, out / "spiral", fps, gif, f"{_name(model)}: the spiral "
                           f"x(t) = (0.2t − 2) sin t, y(t) = (0.2t − 2) cos t")
    return files + explore.write_scores({"t": t, "z1": path[:, 0], "z2": path[:, 1], **w.scores},
                                        out / "spiral.csv")


def sphere_walk(model: AutoEncoder, out: Path, steps: int = 600, loops: int = 20, fps: int = 30, gif: bool = False,
                judge: classifier.DigitNet | None = None) -> list[Path]:
    """F6-F8: a walk on the sqrt(d) sphere, its 3-D and pairwise pictures, and the decoded animation."""
    d = model.latent_dim
    require(d >= 2, f"a sphere walk needs d >= 2; this model has z = {d}")
    path = paths.sphere_walk(d, steps, loops)
    w = explore.walk(model, path, judge)
    files = animate.sphere_walk(path, w.images, w.scores.get("confidence"), out / "sphere_walk", fps, gif,
                                f"{_name(model)}: a walk on the sphere of radius √{d} = {np.sqrt(d):.2f}")
    files += figures.pair_projections(path, out / "sphere_walk_pairs")
    if d >= 3:
        files += figures.sphere_3d(path[:, :3] / np.linalg.norm(path[:, :3], axis=1, keepdims=True).clip(1e-12)
                                   * np.sqrt(d), out / "sphere_walk_3d",
                                   f"First three coordinates of the walk, rescaled onto the radius-√{d} sphere")
    return files + explore.write_scores(w.scores, out / "sphere_walk.csv")


def endpoints(model: AutoEncoder, source: str, pairs: int, seed: int,
              images: torch.Tensor | None = None) -> np.ndarray:
    """(pairs, 2, d) endpoints: prior samples rescaled onto the sqrt(d) shell, or encoded test images."""
    require(is_int(pairs) and pairs >= 1, f"--pairs must be an integer >= 1, got {pairs!r}")
    rng = np.random.default_rng(seed)
    d = model.latent_dim
    if source == "prior":
        z = rng.standard_normal((pairs, 2, d))
        return z / np.linalg.norm(z, axis=-1, keepdims=True) * np.sqrt(d)
    require(source == "test", f"--from must be prior or test, got {source!r}")
    require(images is not None and len(images) >= 2, "encoding test endpoints needs test images")
    idx = rng.choice(len(images), size=(pairs, 2), replace=len(images) < 2 * pairs)
    codes = evaluate.codes(model, images[idx.ravel()])[0].numpy().astype(np.float64)
    return codes.reshape(pairs, 2, d)


def interpolate(model: AutoEncoder, out: Path, methods: list[str], steps: int = 10, source: str = "prior",
                seed: int = 0, pairs: int = 1, judge: classifier.DigitNet | None = None,
                images: torch.Tensor | None = None) -> list[Path]:
    """F10 and F11: decoded rows of each interpolation between two endpoints, and the norm along each path.

    With several pairs, the rows show the first pair; the norms, and the scores file, cover all of them.
    """
    unknown = [m for m in methods if m not in paths.INTERPOLATIONS]
    require(methods and not unknown, f"unknown method {', '.join(unknown) or '(none)'}: use "
                                     f"{', '.join(paths.INTERPOLATIONS)} (comma-separated)")
    require(is_int(steps) and 2 <= steps <= 64, f"--steps must be an integer in 2..64, got {steps!r}")
    ends = endpoints(model, source, pairs, seed, images)
    t = np.linspace(0, 1, steps)
    walks = {m: [explore.walk(model, paths.INTERPOLATIONS[m](a, b, steps), judge) for a, b in ends] for m in methods}
    d = model.latent_dim
    rows, notes = [], []
    for m in methods:
        first = walks[m][0]
        rows.append((m, first.images))
        mid = steps // 2
        note = f"|z| mid {first.scores['norm'][mid]:.1f}"
        if "confidence" in first.scores:
            note += f"\nconf. mid {first.scores['confidence'][mid]:.2f}"
        notes.append(note + f"\nsharp. mid {first.scores['sharpness'][mid]:.3f}")
    what = "prior samples on the √d shell" if source == "prior" else "encoded test images"
    files = figures.image_rows(rows, out / "interpolate", f"{_name(model)}: between two {what}",
                               col_labels=[f"{v:.2f}" for v in t], notes=notes)
    files += figures.norms_along(t, {m: np.stack([w.scores["norm"] for w in ws]) for m, ws in walks.items()}, d,
                                 out / "interpolate_norms",
                                 f"{_name(model)}: |z| along the path ({pairs} pair{'s' * (pairs > 1)})")
    columns = {"pair": np.repeat(np.arange(pairs), steps), "t": np.tile(t, pairs)}
    for m, ws in walks.items():
        for k, v in ws[0].scores.items():
            columns[f"{m}_{k}"] = np.concatenate([w.scores[k] for w in ws])
    return files + explore.write_scores(columns, out / "interpolate.csv")


def geometry_figures(out: Path, dims: list[int] = (1, 2, 10, 100, 500), walk_dim: int = 4) -> list[Path]:
    """F4, F5, F6, F7 and F9: the geometry of high dimensions, no model needed."""
    require(all(is_int(d) and d >= 1 for d in dims), "--dims must be integers >= 1")
    walk = paths.sphere_walk(walk_dim, 1500, 12, radius=1.0)
    files = figures.ball_volume_figure(out / "ball_volume")
    files += figures.norm_histograms(list(dims), out / "norms")
    files += figures.sphere_3d(paths.sphere_walk(3, 1500, 12, radius=1.0), out / "sphere_3d")
    files += figures.pair_projections(walk, out / "sphere_pairs", coords=walk_dim,
                                      title=f"A walk on the unit sphere in R^{walk_dim}: every pair of coordinates")
    files += figures.lerp_slerp_geometry(out / "lerp_slerp")
    return files


def prior_quality(model: AutoEncoder, judge: classifier.DigitNet, n: int = 1000, seed: int = 0) -> dict:
    """How often prior samples decode to a digit the classifier is sure of: the AE's holes, measured."""
    z = np.random.default_rng(seed).standard_normal((n, model.latent_dim))
    w = explore.walk(model, z, judge)
    return {"confidence": float(w.scores["confidence"].mean()),
            "confident": float((w.scores["confidence"] >= CONFIDENT).mean()),
            "images": w.images, "walk": w}


def compare(ae: AutoEncoder, vae: AutoEncoder, out: Path, images: torch.Tensor, labels: torch.Tensor | None,
            judge: classifier.DigitNet, n: int = 1000) -> list[Path]:
    """F12: AE against VAE: latent scatters over the prior and decoded prior samples, with the measured share."""
    if ae.latent_dim != 2 or vae.latent_dim != 2:
        raise ConfigError(f"compare draws 2-D latent planes: got z = {ae.latent_dim} and z = {vae.latent_dim}")
    panels, rows = [], {}
    for model in (ae, vae):
        q = prior_quality(model, judge, n)
        panels.append({"name": _name(model), "codes": evaluate.codes(model, images)[0].numpy(),
                       "labels": None if labels is None else labels.numpy(), "samples": q["images"][:100],
                       "confidence": q["confidence"], "confident": q["confident"]})
        rows[model.config.kind] = q["walk"].scores
    files = figures.compare(panels, out / "compare")
    columns = {f"{k}_{name}": v for k, s in rows.items() for name, v in s.items()}
    return files + explore.write_scores(columns, out / "compare.csv")
