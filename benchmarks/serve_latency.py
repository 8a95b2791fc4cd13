"""Round-trip latency of the live explorer's decode API, against the same work done in-process.

Starts the real command (`latentwalk serve RUN … --port 0`, classifier on) and sends, over one keep-alive
HTTP connection with TCP_NODELAY set (as browsers set it), what the page sends: one point with scores (a
pointer move) and 64 points with scores (a clicked path). Each round trip is timed from sending the
request's JSON (encoded beforehand, as a page's JSON.stringify would have it) to the parsed answer. The reference, in the same run, is `Backend.decode` called in this process: the decode, the
classifier and the encoding of the answer without HTTP; it is timed after the HTTP round trips, while the
server idles (two processes computing at once on two cores would slow each other). Targets: p95 <= 30 ms
for one point, <= 60 ms for 64. Then, while the server measures the last model (`POST /api/measure`, on its
heavy requests' thread), one-point decodes of the first, one after another until the measure returns: target
p95 <= 100 ms.

    python benchmarks/serve_latency.py [--runs RUN ...] [--n 1000]
        RUN: trained run folders (default: runs/demo/vae2 and runs/demo/vae500 if present, else a
        784-200-200-2 VAE trained for one epoch into a temporary folder)
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from latentwalk.measure import classifier
from latentwalk.models import ModelConfig
from latentwalk.run.config import DataConfig, TrainConfig
from latentwalk.training.fit import fit
from latentwalk.explorer.backend import Backend

TARGETS = {1: 30.0, 64: 60.0}


def percentiles(ms: list[float]) -> tuple[float, float, float]:
    return tuple(float(np.percentile(ms, q)) for q in (50, 95, 99))


def default_runs(tmp: Path) -> list[Path]:
    demo = [Path("runs/demo/vae2"), Path("runs/demo/vae500")]
    if all((r / "weights.safetensors").exists() for r in demo):
        return demo
    run = tmp / "vae2"
    fit(run, ModelConfig(latent_dim=2), DataConfig(), TrainConfig(epochs=1, device="cpu"), log=lambda s: None)
    return [run]


def start(runs: list[Path]) -> tuple[subprocess.Popen, str, str]:
    """The server process, its base URL and its token."""
    proc = subprocess.Popen([sys.executable, "-m", "latentwalk", "serve", *map(str, runs), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("latentwalk explorer: "):
            base, _, token = line.split()[2].partition("?token=")
            return proc, base, token
    raise SystemExit("the server did not start")


def during_measure(client: httpx.Client, backend: Backend, rng) -> list[float]:
    """Milliseconds of each one-point decode of the first model sent while the last one is measured."""
    names = list(backend.entries)
    d = backend.entries[names[0]].model.latent_dim
    done, ms = threading.Event(), []
    measure = threading.Thread(target=lambda: (client.post("/api/measure", json={"model": names[-1]},
                                                           timeout=600).raise_for_status(), done.set()))
    measure.start()
    while not done.is_set():
        body = json.dumps({"model": names[0], "z": rng.standard_normal((1, d)).round(4).tolist(), "scores": True})
        t0 = time.perf_counter()
        client.post("/api/decode", content=body.encode(), headers={"Content-Type": "application/json"}).json()
        ms.append(1000 * (time.perf_counter() - t0))
    measure.join()
    return ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=Path, nargs="+")
    ap.add_argument("--n", type=int, default=1000, help="round trips per case (default 1000)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    runs = args.runs or default_runs(Path(tmp.name))
    backend = Backend(runs, classifier.load(), log=lambda s: None)
    proc, url, token = start(runs)
    rng = np.random.default_rng(0)
    print(f"server {url}, {args.n} round trips per case, one keep-alive connection, scores on")
    print(f"{'model':>10} {'points':>6} | {'HTTP p50':>8} {'p95':>6} {'p99':>6} | {'in-process p50':>14} "
          f"{'p95':>6} | {'target p95':>10}")
    failed = False
    try:
        nodelay = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        with httpx.Client(base_url=url, params={"token": token}, timeout=30, transport=nodelay) as client:
            for name, entry in backend.entries.items():
                d = entry.model.latent_dim
                for n in (1, 64):
                    bodies = [{"model": name, "z": rng.standard_normal((n, d)).round(4).tolist(), "scores": True}
                              for _ in range(args.n)]
                    http, local = [], []
                    encoded = [json.dumps(b).encode() for b in bodies]        # as JSON.stringify would send
                    for body in encoded[:50] + encoded:                         # the first 50 warm up
                        t0 = time.perf_counter()
                        r = client.post("/api/decode", content=body, headers={"Content-Type": "application/json"})
                        r.raise_for_status()
                        r.json()
                        http.append(1000 * (time.perf_counter() - t0))
                    for body in bodies[:50] + bodies:
                        t0 = time.perf_counter()
                        backend.decode(name, body["z"], True)
                        local.append(1000 * (time.perf_counter() - t0))
                    http, local = http[50:], local[50:]
                    h50, h95, h99 = percentiles(http)
                    l50, l95, _ = percentiles(local)
                    ok = h95 <= TARGETS[n]
                    failed |= not ok
                    print(f"{name:>10} {n:>6} | {h50:6.2f}ms {h95:6.2f} {h99:6.2f} | {l50:12.2f}ms {l95:6.2f} | "
                          f"{'<=':>4} {TARGETS[n]:.0f} ms {'met' if ok else 'MISSED'}  (HTTP/in-process p50 "
                          f"{h50 / l50:.1f}x)")
            busy = during_measure(client, backend, rng)
            b50, b95, b99 = percentiles(busy)
            ok = b95 <= 100
            failed |= not ok
            print(f"during a measure of {list(backend.entries)[-1]} (its {len(busy)} one-point decodes): p50 "
                  f"{b50:.2f} ms, p95 {b95:.2f}, p99 {b99:.2f} | <= 100 ms {'met' if ok else 'MISSED'}")
    finally:
        proc.terminate()
        proc.wait(10)
        tmp.cleanup()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
