"""The post's figures as functions: each takes arrays and returns a Picture (PNG, plus SVG for vector figures).

Figures know nothing of models or files: the gallery decodes and scores through the walk core, these draw.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402
from mpl_toolkits.mplot3d.art3d import Line3DCollection  # noqa: E402

from ..walk import geometry, paths  # noqa: E402
from .output import Picture  # noqa: E402

DIGIT_COLOURS = plt.get_cmap("tab10").colors
METHOD_COLOURS = {"lerp": "#d62728", "slerp": "#1f77b4", "nlerp": "#2ca02c", "geodesic": "#ff7f0e"}
plt.rcParams.update({"figure.dpi": 100, "axes.spines.top": False, "axes.spines.right": False,
                     "svg.fonttype": "none", "font.size": 10})


def save(fig: plt.Figure, name: str, vector: bool = False) -> Picture:
    """The figure as PNG (and SVG for a vector figure) bytes under `name`; the figure is closed."""
    files = {}
    for suffix in (".png", ".svg") if vector else (".png",):
        buf = io.BytesIO()
        fig.savefig(buf, format=suffix[1:], dpi=100, bbox_inches="tight")
        files[suffix] = buf.getvalue()
    plt.close(fig)
    return Picture(name, files)


def mosaic(images: np.ndarray, rows: int, cols: int, pad: int = 0) -> np.ndarray:
    """Tile images (rows*cols, C, H, W) into one (rows*H, cols*W[, C]) array, with `pad` pixels between."""
    n, c, h, w = images.shape
    canvas = np.ones((rows * (h + pad) - pad, cols * (w + pad) - pad, c), dtype=np.float32)
    for k in range(n):
        i, j = divmod(k, cols)
        canvas[i * (h + pad):i * (h + pad) + h, j * (w + pad):j * (w + pad) + w] = images[k].transpose(1, 2, 0)
    return canvas[..., 0] if c == 1 else canvas


def show(ax, image: np.ndarray, **kwargs) -> matplotlib.image.AxesImage:
    """An image in [0, 1] (H, W) or (H, W, 3) on an axis, grey for single-channel ones."""
    return ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest", **kwargs)


# --------------------------------------------------------------------------- model figures

def model_diagram(kind: str, sizes_in: list[int], latent_dim: int, name: str, title: str) -> Picture:
    """F1: encoder -> z -> decoder as boxes whose heights grow with the layer sizes."""
    variational = kind == "vae"
    layers = [(f"x\n{sizes_in[0]}", sizes_in[0], "#9ecae1")] + \
             [(str(s), s, "#c6dbef") for s in sizes_in[1:]] + \
             ([(f"μ, log σ²\n{latent_dim} + {latent_dim}", 2 * latent_dim, "#fdd0a2")] if variational else []) + \
             [(f"z\n{latent_dim}", latent_dim, "#fd8d3c")] + \
             [(str(s), s, "#c7e9c0") for s in sizes_in[1:][::-1]] + \
             [(f"x̂\n{sizes_in[0]}", sizes_in[0], "#a1d99b")]
    fig, ax = plt.subplots(figsize=(1.35 * len(layers) + 1, 3.6))
    top = max(np.log2(s + 1) for _, s, _ in layers)
    for i, (label, size, colour) in enumerate(layers):
        h = 0.6 + 2.4 * np.log2(size + 1) / top
        ax.add_patch(FancyBboxPatch((i * 1.4, -h / 2), 0.8, h, boxstyle="round,pad=0.02", fc=colour, ec="#444"))
        ax.text(i * 1.4 + 0.4, 0, label, ha="center", va="center", fontsize=9)
        if i:
            ax.add_patch(FancyArrowPatch(((i - 1) * 1.4 + 0.85, 0), (i * 1.4 - 0.05, 0), arrowstyle="-|>",
                                         mutation_scale=12, color="#444"))
    z = len(sizes_in) + (1 if variational else 0)
    ax.text(z * 1.4 + 0.4, -1.9, "sampled: z = μ + σ ε" if variational else "code", ha="center", fontsize=9,
            color="#a63603")
    ax.text((z - 1) * 0.7 + 0.4, 1.85, "encoder q(z | x)" if variational else "encoder", ha="center", color="#08519c")
    ax.text((z + (len(layers) - 1)) * 0.7 + 0.4, 1.85, "decoder p(x | z)" if variational else "decoder",
            ha="center", color="#006d2c")
    ax.set_xlim(-0.3, len(layers) * 1.4 - 0.3)
    ax.set_ylim(-2.2, 2.2)
    ax.axis("off")
    ax.set_title(title)
    return save(fig, name, vector=True)


def latent_grid(images: np.ndarray, n: int, extent: tuple[float, float], name: str,
                labels: tuple[str, str] = ("$z_1$", "$z_2$"), title: str = "",
                axis: np.ndarray | None = None) -> Picture:
    """F2: a decoded n x n grid of a latent plane as one mosaic, with the axes in z units.

    `axis` gives the grid's coordinates along each side when they are not evenly spaced (a Gaussian grid):
    ticks then sit at each tile's centre.
    """
    lo, hi = extent
    fig, ax = plt.subplots(figsize=(8, 8))
    if axis is None:
        half = (hi - lo) / (n - 1) / 2 if n > 1 else 0.5
        show(ax, mosaic(images, n, n), extent=(lo - half, hi + half, lo - half, hi + half))
    else:
        show(ax, mosaic(images, n, n), extent=(-0.5, n - 0.5, -0.5, n - 0.5))
        ticks = np.linspace(0, n - 1, min(n, 7)).round().astype(int)
        ax.set_xticks(ticks, [f"{axis[i]:.2f}" for i in ticks])
        ax.set_yticks(ticks, [f"{axis[i]:.2f}" for i in ticks])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title)
    return save(fig, name)


def _prior_contours(ax, extent: float) -> None:
    """Contours of N(0, I) in the plane at 1, 2 and 3 standard deviations."""
    for k in (1, 2, 3):
        ax.add_patch(Circle((0, 0), k, fill=False, ls="--", lw=1, ec="#555", alpha=0.7))
        ax.text(k * 0.7071, k * 0.7071, f"{k}σ", fontsize=8, color="#555")
    g = np.linspace(-extent, extent, 200)
    xx, yy = np.meshgrid(g, g)
    ax.contourf(xx, yy, np.exp(-0.5 * (xx ** 2 + yy ** 2)), levels=12, cmap="Greys", alpha=0.25, zorder=0)


def _scatter_panel(ax, codes: np.ndarray, labels: np.ndarray | None, dims_labels: tuple[str, str],
                   title: str) -> None:
    extent = float(max(3.5, np.percentile(np.abs(codes), 99.5) * 1.1))
    _prior_contours(ax, extent)
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=3, alpha=0.5, lw=0)
    else:
        for digit in range(10):
            m = labels == digit
            ax.scatter(codes[m, 0], codes[m, 1], s=3, alpha=0.6, lw=0, color=DIGIT_COLOURS[digit], label=str(digit))
        ax.legend(markerscale=4, fontsize=8, loc="upper right", ncol=2, title="digit", title_fontsize=8)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel(dims_labels[0])
    ax.set_ylabel(dims_labels[1])
    ax.set_title(title)


def latent_scatter(codes: np.ndarray, labels: np.ndarray | None, name: str,
                   dims_labels: tuple[str, str] = ("$z_1$", "$z_2$"), title: str = "") -> Picture:
    """The encoded test set in a latent plane, coloured by digit, over the prior's density."""
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    _scatter_panel(ax, codes, labels, dims_labels, title)
    return save(fig, name)


def image_rows(rows: list[tuple[str, np.ndarray]], name: str, title: str = "",
               col_labels: list[str] | None = None, notes: list[str] | None = None) -> Picture:
    """Rows of images, each with a label on the left (and an optional note on the right)."""
    cols = max(len(images) for _, images in rows)
    fig, axes = plt.subplots(len(rows), 1, figsize=(0.8 * cols + 2.6, 0.9 * len(rows) + 0.8), squeeze=False)
    for k, (ax, (label, images)) in enumerate(zip(axes[:, 0], rows)):
        show(ax, mosaic(images, 1, len(images), pad=2))
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
        if notes:
            ax.text(1.01, 0.5, notes[k], transform=ax.transAxes, va="center", fontsize=9)
        if col_labels and k == len(rows) - 1:
            w = images.shape[-1] + 2
            ax.set_xticks([w * i + w / 2 - 1 for i in range(len(col_labels))], col_labels, fontsize=8)
    if title:
        fig.suptitle(title)
    return save(fig, name)


def training_curves(metrics: dict[str, list[dict]], name: str) -> Picture:
    """Train and test -ELBO per epoch, one panel per run (rows as in metrics.jsonl)."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.4), squeeze=False)
    for ax, (run, rows) in zip(axes[0], metrics.items()):
        epochs = [r["epoch"] for r in rows]
        ax.plot(epochs, [r["train_neg_elbo"] for r in rows], "o-", ms=3, label="train")
        ax.plot(epochs, [r["test_neg_elbo"] for r in rows], "o-", ms=3, label="test")
        autoencoder = all(r.get("train_kl", 0) == 0 for r in rows)     # an AE's loss is reconstruction alone
        ax.set(title=run, xlabel="epoch", ylabel="reconstruction (nats)" if autoencoder else "−ELBO (nats)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return save(fig, name)


# --------------------------------------------------------------------------- geometry figures (no model)

def ball_volume_figure(name: str, n_max: int = 30) -> Picture:
    """F4: V_n of the unit n-ball against n: up to its peak at n = 5, then down toward 0."""
    n = np.arange(1, n_max + 1)
    v = geometry.ball_volume(n)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(n, v, "o-", color="#1f77b4", ms=4)
    ax.annotate(f"n = 5: V = 8π²/15 ≈ {v[4]:.4f}", (5, v[4]), (9, v[4] * 0.95),
                arrowprops={"arrowstyle": "->", "color": "#444"})
    ax.set_xlabel("dimension n")
    ax.set_ylabel("volume of the unit n-ball  $V_n = \\pi^{n/2} / \\Gamma(n/2 + 1)$")
    ax.set_title("The unit ball's volume peaks at n = 5, then vanishes")
    ax.grid(alpha=0.3)
    return save(fig, name, vector=True)


def norm_histograms(dims: list[int], name: str, samples: int = 20000, seed: int = 0) -> Picture:
    """F5: norms of N(0, I_d) samples for several d, with the chi density and sqrt(d) marked."""
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(dims)))
    for d, colour in zip(dims, colours):
        norms = np.sqrt(np.sum(rng.standard_normal((samples, d)) ** 2, axis=1))
        ax.hist(norms, bins=60, density=True, alpha=0.35, color=colour)
        r = np.linspace(max(0.0, norms.min() - 0.5), norms.max() + 0.5, 300)
        ax.plot(r, geometry.chi_pdf(r, d), color=colour, lw=1.5, label=f"d = {d}")
        ax.axvline(np.sqrt(d), color=colour, ls=":", lw=1)
    ax.set_xlim(0, None)
    ax.set_xlabel("norm |z| of z ~ N(0, I_d)  (dotted: √d)")
    ax.set_ylabel("density")
    ax.set_title("Samples of a high-dimensional Gaussian live on a thin shell of radius ≈ √d")
    ax.legend()
    return save(fig, name, vector=True)


def uniform_sphere(n: int, d: int, radius: float, seed: int = 0) -> np.ndarray:
    """`n` points uniform on the sphere of `radius` in R^d (normalised Gaussian draws)."""
    x = np.random.default_rng(seed).standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True) * radius


def sphere_3d(walk: np.ndarray, name: str, title: str = "") -> Picture:
    """F6: a path on the sphere in 3-D, over points uniform on that sphere."""
    r = float(np.linalg.norm(walk[0]))
    cloud = uniform_sphere(1500, 3, r)
    fig = plt.figure(figsize=(7, 7))
    ax = fig.add_subplot(projection="3d")
    ax.scatter(*cloud.T, s=4, color="#666", alpha=0.5, lw=0)
    colours = plt.get_cmap("plasma")(np.linspace(0, 1, len(walk)))
    # one collection of segments, not an artist a segment: 0.3 s to save instead of 3.7 s for the demo's walk
    ax.add_collection3d(Line3DCollection(np.stack([walk[:-1], walk[1:]], axis=1), colors=colours[:-1], lw=1.5))
    ax.set_box_aspect((1, 1, 1))
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_zlabel("$x_3$")
    ax.set_title(title or f"A walk on the sphere of radius {r:.2f} (colour: progress)")
    return save(fig, name, vector=True)


def pair_projections(walk: np.ndarray, name: str, coords: int = 4, title: str = "") -> Picture:
    """F7: the path's projection on every pair of its first `coords` coordinates (n = 4: six panels)."""
    k = min(coords, walk.shape[1])
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    cols = min(3, len(pairs))
    rows = -(-len(pairs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.6 * rows), squeeze=False)
    r = float(np.linalg.norm(walk[0]))
    t = np.linspace(0, 1, len(walk))
    for ax, (i, j) in zip(axes.flat, pairs):
        ax.scatter(walk[:, i], walk[:, j], c=t, cmap="plasma", s=2, lw=0)
        ax.add_patch(Circle((0, 0), r, fill=False, ls="--", ec="#888", lw=0.8))
        ax.set_xlim(-r * 1.05, r * 1.05)
        ax.set_ylim(-r * 1.05, r * 1.05)
        ax.set_aspect("equal")
        ax.set_xlabel(f"$x_{i + 1}$")
        ax.set_ylabel(f"$x_{j + 1}$")
    for ax in axes.flat[len(pairs):]:
        ax.axis("off")
    fig.suptitle(title or "The sphere walk, projected on pairs of coordinates")
    fig.tight_layout()
    return save(fig, name, vector=True)


def lerp_slerp_geometry(name: str, d: int = 500) -> Picture:
    """F9: on the sqrt(d) circle through two orthogonal codes, lerp cuts the chord and slerp follows the arc."""
    r = np.sqrt(d)
    a, b = np.array([r, 0.0]), np.array([0.0, r])
    chord, arc = paths.lerp(a, b, 11), paths.slerp(a, b, 11)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.add_patch(Circle((0, 0), r, fill=False, ec="#888", ls="--"))
    ax.plot(*chord.T, "o-", color=METHOD_COLOURS["lerp"], ms=4, label="lerp: the chord")
    ax.plot(*arc.T, "o-", color=METHOD_COLOURS["slerp"], ms=4, label="slerp: the arc")
    for path, method, where in ((chord, "lerp", 0.55), (arc, "slerp", 1.2)):
        mid = path[5]
        ax.plot(*mid, "o", ms=9, mfc="white", mec=METHOD_COLOURS[method], mew=2)
        ax.annotate(f"midpoint |z| = {np.linalg.norm(mid):.1f}", mid, mid * where, color=METHOD_COLOURS[method],
                    ha="center", arrowprops={"arrowstyle": "-", "color": METHOD_COLOURS[method], "lw": 0.8})
    ax.plot([0], [0], "k+")
    ax.annotate(f"√d = {r:.1f}", (0, 0), (r * 0.35, -r * 0.12))
    ax.plot([0, r], [0, 0], color="#888", lw=0.8)
    ax.set_aspect("equal")
    ax.set_xlim(-0.15 * r, 1.2 * r)
    ax.set_ylim(-0.2 * r, 1.35 * r)
    ax.set_title(f"Two orthogonal codes on the √d shell (d = {d}):\nlerp dips inside it to √(d/2), slerp stays on it")
    ax.legend(loc="upper right")
    return save(fig, name, vector=True)


def norms_along(t: np.ndarray, norms: dict[str, np.ndarray], d: int, name: str, title: str = "") -> Picture:
    """F11: |z| along each interpolation, with sqrt(d) and sqrt(d/2) marked (mean and spread over pairs)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for method, values in norms.items():
        values = np.atleast_2d(values)
        mean = values.mean(0)
        ax.plot(t, mean, color=METHOD_COLOURS.get(method), label=method, lw=2)
        if len(values) > 1:
            ax.fill_between(t, values.min(0), values.max(0), color=METHOD_COLOURS.get(method), alpha=0.15)
    ax.axhline(np.sqrt(d), color="#444", ls=":", lw=1)
    ax.axhline(np.sqrt(d / 2), color="#444", ls=":", lw=1)
    ax.text(t[-1], np.sqrt(d), f" √d = {np.sqrt(d):.1f}", va="center")
    ax.text(t[-1], np.sqrt(d / 2), f" √(d/2) = {np.sqrt(d / 2):.1f}", va="center")
    ax.set_xlabel("t")
    ax.set_ylabel("|z|")
    ax.set_title(title or f"Norm along the path (d = {d})")
    ax.legend()
    return save(fig, name, vector=True)


def paths_over_magnification(magnification: np.ndarray, extent: float, paths_by_method: dict[str, np.ndarray],
                              codes: np.ndarray, labels: np.ndarray | None, name: str, title: str = "") -> Picture:
    """Paths (pairs, k, 2) of each method over a 2-D latent plane shaded by the decoder's magnification
    factor (a (g, g) grid over [-extent, extent]², log scale), with the encoded test digits faintly beneath."""
    fig, ax = plt.subplots(figsize=(7.8, 7))
    floor = 1e-6 * magnification.max()          # float32 decoders saturate far out: det(JᵀJ) rounds to 0
    shade = ax.imshow(np.log10(np.maximum(magnification, floor)), origin="lower",
                      extent=(-extent, extent, -extent, extent), cmap="Greys", interpolation="bilinear")
    fig.colorbar(shade, ax=ax, shrink=0.8, label="log₁₀ magnification  √det(JᵀJ)")
    colours = DIGIT_COLOURS if labels is not None else ["#555"]
    for digit in range(10 if labels is not None else 1):
        m = labels == digit if labels is not None else slice(None)
        ax.scatter(codes[m, 0], codes[m, 1], s=3, alpha=0.45, lw=0, color=colours[digit])
    for method, pairs in paths_by_method.items():
        for k, path in enumerate(pairs):
            ax.plot(path[:, 0], path[:, 1], color=METHOD_COLOURS.get(method), lw=2.2 if method == "geodesic" else 1.5,
                    label=method if k == 0 else None, alpha=0.9)
    first = next(iter(paths_by_method.values()))
    ax.scatter(first[:, [0, -1], 0].ravel(), first[:, [0, -1], 1].ravel(), s=30, color="white", ec="black", zorder=5)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.legend(loc="upper right")
    ax.set_title(title)
    return save(fig, name)


def analogy_grid(images: np.ndarray, size: int, corners: np.ndarray, name: str, title: str = "") -> Picture:
    """A J-diagram: the three test images A, B, C on the left, the decoded grid (size * size, C, H, W) on the
    right with its corners marked: A, B, C decoded, and B + C - A."""
    fig = plt.figure(figsize=(2.2 + 1.1 * size, 1.1 * size + 0.6))
    grid_ax = fig.add_axes((2.0 / (2.2 + 1.1 * size), 0.02, 1 - 2.1 / (2.2 + 1.1 * size), 0.9))
    h, w = images.shape[-2:]
    show(grid_ax, mosaic(images, size, size, pad=2))
    grid_ax.axis("off")
    for (row, col), text in {(0, 0): "A", (0, size - 1): "B", (size - 1, 0): "C", (size - 1, size - 1): "B + C − A"}.items():
        x, y = col * (w + 2) - 0.5, row * (h + 2) - 0.5            # the cell's pixel area
        grid_ax.add_patch(plt.Rectangle((x, y), w, h, fill=False, ec="#f08c00", lw=2, clip_on=False))
        grid_ax.text(x + 1, y + 1, text, color="#f08c00", fontsize=9, va="top", fontweight="bold")
    for k, label in enumerate("ABC"):
        ax = fig.add_axes((0.02, 0.92 - 0.3 * (k + 1), 1.6 / (2.2 + 1.1 * size), 0.27))
        show(ax, corners[k].transpose(1, 2, 0)[..., 0] if corners.shape[1] == 1 else corners[k].transpose(1, 2, 0))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"test image {label}", fontsize=9)
    if title:
        fig.suptitle(title)
    return save(fig, name)


# --------------------------------------------------------------------------- AE against VAE

def side_by_side(panels: list[dict], name: str) -> Picture:
    """F12: for each model, its latent scatter over the prior and a grid of decoded prior samples.

    Each panel: {"name", "codes" (n, 2), "labels", "samples" (k*k, C, H, W), "confidence" (mean),
    "confident" (share of samples judged a digit with confidence >= 0.9)}.
    """
    fig, axes = plt.subplots(2, len(panels), figsize=(6.5 * len(panels), 12.5), squeeze=False)
    for col, p in enumerate(panels):
        _scatter_panel(axes[0, col], p["codes"], p["labels"], ("$z_1$", "$z_2$"),
                       f"{p['name']}: encoded test digits over the prior N(0, I)")
        k = int(np.sqrt(len(p["samples"])))
        show(axes[1, col], mosaic(p["samples"][:k * k], k, k, pad=1))
        axes[1, col].axis("off")
        axes[1, col].set_title(f"{p['name']}: decoded prior samples z ~ N(0, I)\n"
                               f"classifier confidence {p['confidence']:.2f} on average, "
                               f"{100 * p['confident']:.0f}% judged a clear digit")
    fig.tight_layout()
    return save(fig, name)
