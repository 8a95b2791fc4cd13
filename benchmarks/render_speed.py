"""Decoding and animation speed against the straightforward way, in the same run.

1. The 20x20 latent grid: `walk.core.decode` (one batched forward pass) against the post's loop, which
   decodes one grid point at a time. Target: >= 50x.
2. A 300-frame three-panel spiral MP4: `figures.animate.spiral` (figure built once, moving artists blitted
   over a background drawn once) against the same animation with the figure rebuilt for every frame.
   Target: >= 5x.

    python benchmarks/render_speed.py [--run RUN]     # RUN: a 2-D run folder; default: trains a small one
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import latentwalk  # noqa: E402
from latentwalk.walk import core, paths  # noqa: E402
from latentwalk.models import ModelConfig  # noqa: E402
from latentwalk.figures import animate  # noqa: E402
from latentwalk.run.config import DataConfig, TrainConfig  # noqa: E402
from latentwalk.training.fit import fit  # noqa: E402


def grid_per_point(model, z: np.ndarray) -> np.ndarray:
    """The post's loop: one forward pass per grid point."""
    out = np.zeros((len(z), 28, 28), np.float32)
    with torch.no_grad():
        for k, point in enumerate(z):
            out[k] = model.decode(torch.tensor(point, dtype=torch.float32)[None]).numpy().reshape(28, 28)
    return out


def spiral_rebuilt(path: np.ndarray, t: np.ndarray, images: np.ndarray, out: Path, fps: int = 30) -> None:
    """The same three panels, the figure rebuilt from scratch for every frame."""
    writer = None
    lim = 2.5
    g = np.linspace(-lim, lim, 200)
    xx, yy = np.meshgrid(g, g)
    density = np.exp(-0.5 * (xx ** 2 + yy ** 2)) / (2 * np.pi)
    for i in range(len(path)):
        fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 5), dpi=animate.DPI,
                                      gridspec_kw={"width_ratios": [1, 1.3, 1]})
        a.contourf(xx, yy, density, levels=15, cmap="Blues")
        a.plot(path[:, 0], path[:, 1], color="white", lw=0.8, alpha=0.6)
        a.plot(path[:i + 1, 0], path[:i + 1, 1], color="#d62728")
        a.plot(path[i, 0], path[i, 1], "o", color="#d62728")
        a.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
        b.plot(t, path[:, 0], alpha=0.25)
        b.plot(t, path[:, 1], alpha=0.25)
        b.plot(t[:i + 1], path[:i + 1, 0])
        b.plot(t[:i + 1], path[:i + 1, 1])
        b.axvline(t[i])
        c.imshow(images[i, 0], cmap="gray", vmin=0, vmax=1)
        c.axis("off")
        fig.tight_layout()
        fig.canvas.draw()
        frame = np.asarray(fig.canvas.buffer_rgba())
        if writer is None:
            h, w = frame.shape[:2]
            writer = imageio_ffmpeg.write_frames(str(out), (w, h), pix_fmt_in="rgba", pix_fmt_out="yuv420p",
                                                 fps=fps, codec="libx264", macro_block_size=1,
                                                 ffmpeg_log_level="error")
            writer.send(None)
        writer.send(frame)
        plt.close(fig)
    writer.close()


def timed(f, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, help="a 2-D run folder (default: train a small one)")
    p.add_argument("--frames", type=int, default=300)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run = args.run or fit(tmp / "vae2", ModelConfig(latent_dim=2), DataConfig("mnist"),
                              TrainConfig(epochs=1, device="cpu"), log=lambda s: None)
        model = latentwalk.load(run)
        z = paths.grid(20, (-3, 3))
        batched = timed(lambda: core.decode(model, z), 20)
        looped = timed(lambda: grid_per_point(model, z), 3)
        assert np.allclose(core.decode(model, z)[:, 0], grid_per_point(model, z), atol=1e-5)
        print(f"20x20 grid decode: batched {batched * 1e3:.2f} ms, per point {looped * 1e3:.1f} ms, "
              f"speed-up {looped / batched:.0f}x  {'PASS' if looped / batched >= 50 else 'MISS'} (target >= 50x)")

        path, t = paths.spiral(args.frames), paths.spiral_parameter(args.frames)
        images = core.decode(model, path)
        ours = timed(lambda: animate.spiral(path, t, images, "ours"), 1)
        rebuilt = timed(lambda: spiral_rebuilt(path, t, images, tmp / "rebuilt.mp4"), 1)
        print(f"{args.frames}-frame spiral MP4: ours {ours:.1f} s, rebuilt per frame {rebuilt:.1f} s, "
              f"speed-up {rebuilt / ours:.1f}x  {'PASS' if rebuilt / ours >= 5 else 'MISS'} (target >= 5x)")


if __name__ == "__main__":
    main()
