"""The post's animations: the spiral through the 2-D plane (F3) and the walk on the sphere (F8).

A figure is built once. Its static parts are drawn once into a background; each frame restores that
background and redraws only the moving artists (blitting), then hands the pixels to the ffmpeg bundled
with imageio-ffmpeg (H.264, yuv420p: plays in every browser). The whole path is decoded beforehand, in
one batched pass, by the caller.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from .draw import show  # noqa: E402
from .output import Picture  # noqa: E402

DPI = 80   # with the figure sizes below, frame sides are multiples of 16 (what H.264 encoders like)


def video(fig: plt.Figure, moving: list, update: Callable[[int], None], frames: int, name: str,
           fps: int = 30, gif: bool = False) -> Picture:
    """Render `frames` frames of `fig` as an MP4 (and a half-size GIF), calling update(i) before each.

    `moving` are the artists that update() changes; they are drawn over a background drawn once. ffmpeg
    writes into a private temporary folder; the bytes come back as a Picture called `name`.
    """
    for artist in moving:
        artist.set_animated(True)
    canvas = fig.canvas
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    w, h = canvas.get_width_height()
    files, gif_frames = {}, []
    with tempfile.TemporaryDirectory(prefix="latentwalk-") as folder:
        mp4 = Path(folder) / f"{name}.mp4"
        writer = imageio_ffmpeg.write_frames(str(mp4), (w, h), pix_fmt_in="rgba", pix_fmt_out="yuv420p", fps=fps,
                                             codec="libx264", macro_block_size=1, ffmpeg_log_level="error",
                                             output_params=["-crf", "20"])
        writer.send(None)
        for i in range(frames):
            update(i)
            canvas.restore_region(background)
            for artist in moving:
                artist.axes.draw_artist(artist)
            pixels = np.asarray(canvas.buffer_rgba())
            writer.send(pixels)
            if gif and i % 2 == 0:
                gif_frames.append(Image.fromarray(pixels[::2, ::2, :3].copy()))
        writer.close()
        files[".mp4"] = mp4.read_bytes()
    if gif:
        buf = io.BytesIO()
        gif_frames[0].save(buf, format="GIF", save_all=True, append_images=gif_frames[1:],
                           duration=int(2000 / fps), loop=0, optimize=False)
        files[".gif"] = buf.getvalue()
    plt.close(fig)
    return Picture(name, files)


def spiral(path: np.ndarray, t: np.ndarray, images: np.ndarray, name: str, fps: int = 30,
           gif: bool = False, title: str = "") -> Picture:
    """F3: per frame, the trace and current point over the prior's density, z1 and z2 against t, the image."""
    fig, (ax_plane, ax_t, ax_img) = plt.subplots(1, 3, figsize=(15, 5), dpi=DPI,
                                                 gridspec_kw={"width_ratios": [1, 1.3, 1]})
    lim = float(max(2.5, np.abs(path).max() * 1.15))
    g = np.linspace(-lim, lim, 200)
    xx, yy = np.meshgrid(g, g)
    ax_plane.contourf(xx, yy, np.exp(-0.5 * (xx ** 2 + yy ** 2)) / (2 * np.pi), levels=15, cmap="Blues")
    ax_plane.plot(path[:, 0], path[:, 1], color="white", lw=0.8, alpha=0.6)
    trace, = ax_plane.plot([], [], color="#d62728", lw=1.8)
    point, = ax_plane.plot([], [], "o", color="#d62728", ms=8, mec="white")
    ax_plane.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel="$z_1$", ylabel="$z_2$",
                 title="path over the prior N(0, I)")
    ax_t.plot(t, path[:, 0], color="#1f77b4", alpha=0.25)
    ax_t.plot(t, path[:, 1], color="#ff7f0e", alpha=0.25)
    z1_line, = ax_t.plot([], [], color="#1f77b4", label="$z_1(t)$")
    z2_line, = ax_t.plot([], [], color="#ff7f0e", label="$z_2(t)$")
    now = ax_t.axvline(t[0], color="#444", lw=0.8)
    ax_t.set(xlim=(t[0], t[-1]), xlabel="t", ylabel="z", title="latent coordinates")
    ax_t.legend(loc="upper right")
    img = show(ax_img, _hwc(images[0]))
    ax_img.axis("off")
    ax_img.set_title("decoded image")
    if title:
        fig.suptitle(title)
    fig.tight_layout()

    def update(i: int) -> None:
        trace.set_data(path[:i + 1, 0], path[:i + 1, 1])
        point.set_data(path[i:i + 1, 0], path[i:i + 1, 1])
        z1_line.set_data(t[:i + 1], path[:i + 1, 0])
        z2_line.set_data(t[:i + 1], path[:i + 1, 1])
        now.set_xdata([t[i], t[i]])
        img.set_data(_hwc(images[i]))

    return video(fig, [trace, point, z1_line, z2_line, now, img], update, len(path), name, fps, gif)


def sphere_walk(path: np.ndarray, images: np.ndarray, confidence: np.ndarray | None, name: str,
                fps: int = 30, gif: bool = False, title: str = "") -> Picture:
    """F8: the decoded image, |z| against sqrt(d) (and the classifier's confidence), two coordinate planes."""
    steps, d = path.shape
    progress = np.linspace(0, 1, steps)
    norms = np.linalg.norm(path, axis=1)
    fig, axes = plt.subplots(1, 4, figsize=(16, 4), dpi=DPI, gridspec_kw={"width_ratios": [1, 1.4, 1, 1]})
    ax_img, ax_norm, ax_p1, ax_p2 = axes
    img = show(ax_img, _hwc(images[0]))
    ax_img.axis("off")
    ax_img.set_title("decoded image")
    ax_norm.axhline(np.sqrt(d), color="#444", ls=":", lw=1)
    ax_norm.text(0.01, np.sqrt(d), f"√d = {np.sqrt(d):.2f}", va="bottom", fontsize=9)
    ax_norm.plot(progress, norms, color="#1f77b4", alpha=0.25)
    norm_line, = ax_norm.plot([], [], color="#1f77b4", label="|z|")
    ax_norm.set(xlim=(0, 1), ylim=(0, max(norms.max(), np.sqrt(d)) * 1.25), xlabel="progress", ylabel="|z|",
                title="norm of z")
    moving = [img, norm_line]
    if confidence is not None:
        ax_conf = ax_norm.twinx()
        ax_conf.plot(progress, confidence, color="#2ca02c", alpha=0.2)
        conf_line, = ax_conf.plot([], [], color="#2ca02c", label="classifier confidence")
        ax_conf.set(ylim=(0, 1.05))
        ax_conf.spines["right"].set_visible(True)
        ax_norm.legend(handles=[norm_line, conf_line], loc="lower left", fontsize=8)
        moving.append(conf_line)
    now = ax_norm.axvline(0, color="#444", lw=0.8)
    moving.append(now)
    r = np.sqrt(d) * 1.05
    projections = []
    # the last angle is the one that loops: it moves the last two coordinates, so show that plane too
    for ax, (i, j) in zip((ax_p1, ax_p2), ((0, 1), (d - 2, d - 1))):
        ax.plot(path[:, i], path[:, j], color="#999", lw=0.5, alpha=0.5)
        trace, = ax.plot([], [], color="#d62728", lw=1)
        point, = ax.plot([], [], "o", color="#d62728", ms=6, mec="white")
        ax.set(xlim=(-r, r), ylim=(-r, r), aspect="equal", xlabel=f"$z_{{{i + 1}}}$", ylabel=f"$z_{{{j + 1}}}$",
               title=f"projection on ($z_{{{i + 1}}}$, $z_{{{j + 1}}}$)")
        projections.append((trace, point, i, j))
        moving += [trace, point]
    fig.suptitle(title or f"A walk on the √d sphere of a {d}-D latent space")
    fig.tight_layout()

    def update(k: int) -> None:
        img.set_data(_hwc(images[k]))
        norm_line.set_data(progress[:k + 1], norms[:k + 1])
        if confidence is not None:
            conf_line.set_data(progress[:k + 1], confidence[:k + 1])
        now.set_xdata([progress[k], progress[k]])
        for trace, point, i, j in projections:
            trace.set_data(path[:k + 1, i], path[:k + 1, j])
            point.set_data(path[k:k + 1, i], path[k:k + 1, j])

    return video(fig, moving, update, steps, name, fps, gif)


def _hwc(image: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W) for grey, (H, W, C) for colour."""
    return image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
