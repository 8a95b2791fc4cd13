"""Peak memory of one training epoch over 200,000 synthetic 64x64 RGB images (2.46 GB of pixels).

Ours: the images converted once (`mapped.write`, the writer behind `latentwalk convert`) and read from disk
batch by batch. Reference, in the same run: the same images as an .npz, which training loads into memory.
Each run is a fresh process (`latentwalk train --epochs 1`, a 12288-200-200-16 VAE, batch 128) whose peak
resident set size (VmHWM, read by the process itself as it exits) is reported. Target: ours <= 2 GB.

    python benchmarks/memory.py [--n 200000] [--dir /tmp]     # needs about 5 GB of free disk
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from latentwalk.data import mapped

SHAPE = (3, 64, 64)
TRAIN = ["--hidden", "200,200", "--latent-dim", "16", "--epochs", "1", "--batch-size", "128", "--device", "cpu"]


def synthetic(n: int, seed: int, chunk: int = 5000):
    """Smooth random blobs (not noise: a VAE can learn them), `chunk` images at a time."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    for i in range(0, n, chunk):
        k = min(chunk, n - i)
        cx, cy, r = rng.uniform(0.2, 0.8, (3, k, 1, 1))
        colour = rng.uniform(0, 255, (k, 3, 1, 1))
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (0.02 + 0.05 * r))[:, None]
        yield (blob * colour).astype(np.uint8), None


def peak_rss(data: Path, out: Path) -> tuple[float, float]:
    """Peak RSS (GB) and wall time (s) of one training epoch in a fresh process."""
    t0 = time.perf_counter()
    # VmHWM, not ru_maxrss: the latter keeps the peak of the process before exec, i.e. of this parent's fork
    code = ("import sys; from latentwalk.cli import main\n"
            "try:\n    main(sys.argv[1:])\nfinally:\n"
            "    hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
            "    print('maxrss_kb', hwm.split()[1], file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code, "train", "--data", str(data), *TRAIN, "--out", str(out)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(p.stderr[-2000:])
    kb = int(p.stderr.rsplit("maxrss_kb", 1)[1].split()[0])
    return kb / 1e6 * 1.024, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="training images (default 200,000)")
    ap.add_argument("--dir", type=Path, default=None, help="where to write the data (default: a temp folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        n_test = max(1, args.n // 20)
        t0 = time.perf_counter()
        disk = mapped.write(tmp / "disk", {"train": (args.n, synthetic(args.n, 0)),
                                           "test": (n_test, synthetic(n_test, 1))}, "synthetic")
        print(f"wrote {args.n:,} + {n_test:,} images of {SHAPE} ({(args.n + n_test) * np.prod(SHAPE) / 1e9:.2f} GB) "
              f"in {time.perf_counter() - t0:.0f} s")
        npz = tmp / "memory.npz"
        np.savez(npz, x_train=np.load(disk / "train_images.npy", mmap_mode="r"),
                 x_test=np.load(disk / "test_images.npy", mmap_mode="r"))
        ours, ours_s = peak_rss(disk, tmp / "run_disk")
        ref, ref_s = peak_rss(npz, tmp / "run_memory")
    print(f"{'data':>22} | {'peak RSS GB':>11} | {'epoch + start s':>15}")
    print(f"{'converted, from disk':>22} | {ours:11.2f} | {ours_s:15.0f}")
    print(f"{'.npz, in memory':>22} | {ref:11.2f} | {ref_s:15.0f}")
    print(f"ours / reference: {ours / ref:.2f}x the memory; target <= 2 GB: {'met' if ours <= 2 else 'MISSED'}")
    sys.exit(0 if ours <= 2 else 1)


if __name__ == "__main__":
    main()
