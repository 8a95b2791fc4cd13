"""`latentwalk demo`: the whole post from models trained here, as one standalone HTML report.

Trains (or reuses, or resumes) the post's four models on bundled MNIST: an AE and a VAE with z = 2, VAEs
with z = 10 and z = 500; draws every figure with the gallery; measures what the post only eyeballs; writes
`report.html`. A second run with the models present only re-renders; an interrupted run resumes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import checkpoint, classifier, datasets, evaluate, explore, gallery, paths, report
from .errors import RunError
from .models import AutoEncoder, ModelConfig
from .render import figures
from .runconfig import DataConfig, TrainConfig
from .train import fit

MODELS = {"ae2": ("ae", 2), "vae2": ("vae", 2), "vae10": ("vae", 10), "vae500": ("vae", 500)}


@dataclasses.dataclass(frozen=True)
class Plan:
    """How much work each part gets: the default demo, or --quick (same sections, less of everything)."""
    epochs: int = 20
    frames: int = 300
    sphere_frames: int = 600
    pairs: int = 100
    iwae_k: int = 1000
    eval_images: int = 2000
    prior_samples: int = 1000

    @staticmethod
    def quick() -> Plan:
        return Plan(epochs=2, frames=60, sphere_frames=120, pairs=20, iwae_k=100, eval_images=500,
                    prior_samples=300)


def _train_or_reuse(run: Path, kind: str, z: int, plan: Plan, log) -> AutoEncoder:
    model_cfg = ModelConfig(kind=kind, latent_dim=z, hidden=(200, 200))
    train_cfg = TrainConfig(epochs=plan.epochs, batch_size=128, seed=0, device="cpu")
    if (run / checkpoint.CONFIG).exists():
        cfg = checkpoint.load_config(run)
        if cfg.model != dataclasses.replace(model_cfg, image_shape=cfg.model.image_shape) or cfg.train != train_cfg:
            raise RunError(f"{run} holds a run with other settings; remove it or choose another --out")
        done = checkpoint.read_metrics(run)
        if len(done) < plan.epochs:
            log(f"{run.name}: resuming at epoch {len(done) + 1} of {plan.epochs}")
            fit(run, resume=True, log=log)
        else:
            log(f"{run.name}: reusing the trained model ({plan.epochs} epochs)")
    else:
        log(f"{run.name}: training {'an AE' if kind == 'ae' else 'a VAE'} with z = {z} for {plan.epochs} epochs")
        fit(run, model_cfg, DataConfig("mnist"), train_cfg, log=log)
    return checkpoint.load(run)


def interpolation_stats(model: AutoEncoder, judge: classifier.DigitNet, pairs: int, steps: int = 11,
                        seed: int = 0) -> list[dict]:
    """Midpoint numbers of lerp, slerp and nlerp over `pairs` random prior pairs on the sqrt(d) shell."""
    ends = gallery.endpoints(model, "prior", pairs, seed)
    rows = []
    for name, method in paths.INTERPOLATIONS.items():
        path = np.concatenate([method(a, b, steps) for a, b in ends])          # (pairs * steps, d)
        mid = explore.walk(model, path[steps // 2::steps], judge)              # the midpoints only
        row = {"z": model.latent_dim, "method": name}
        for key in ("norm", "prior_logpdf", "confidence", "sharpness"):
            row[key] = (float(mid.scores[key].mean()), float(mid.scores[key].std()))
        rows.append(row)
    return rows


def run_demo(out: str | Path = "runs/demo", quick: bool = False, log: Callable[[str], None] = print) -> Path:
    """Train or reuse the models, draw and measure everything, write `out`/report.html; return its path."""
    out = Path(out)
    plan = Plan.quick() if quick else Plan()
    t0 = time.perf_counter()
    runs = {name: out / name for name in MODELS}
    models = {name: _train_or_reuse(runs[name], kind, z, plan, log) for name, (kind, z) in MODELS.items()}
    judge = classifier.load(log=log)
    images, labels = datasets.load("mnist", "test")
    fig_dir = out / "figures"
    log("drawing the figures")
    f = {"training": figures.training_curves({name: checkpoint.read_metrics(run) for name, run in runs.items()},
                                             fig_dir / "training_curves")}
    for name, model in models.items():
        f[f"model_{name}"] = gallery.model_summary(model, fig_dir / name)
    vae2, ae2, vae10, vae500 = models["vae2"], models["ae2"], models["vae10"], models["vae500"]
    f["grid"] = gallery.grid(vae2, fig_dir / "vae2", 20, (-3.0, 3.0))
    f["scatter"] = gallery.scatter(vae2, fig_dir / "vae2", images[:5000], labels[:5000])
    f["samples"] = gallery.samples(vae2, fig_dir / "vae2", images, 16)
    log("rendering the spiral and the sphere walk")
    f["spiral"] = gallery.spiral(vae2, fig_dir / "vae2", plan.frames, judge=judge)
    f["sphere"] = gallery.sphere_walk(vae10, fig_dir / "vae10", plan.sphere_frames, 20, judge=judge)
    f["geometry"] = gallery.geometry_figures(fig_dir / "geometry")
    f["interpolate"] = gallery.interpolate(vae500, fig_dir / "vae500", ["lerp", "slerp", "nlerp"], 10, "prior", 0,
                                           plan.pairs, judge)
    f["interpolate_test"] = gallery.interpolate(vae10, fig_dir / "vae10", ["lerp", "slerp", "nlerp"], 10, "test", 0,
                                                1, judge, images)
    f["compare"] = gallery.compare(ae2, vae2, fig_dir / "compare", images[:5000], labels[:5000], judge,
                                   plan.prior_samples)
    log("measuring: evaluation, interpolations, prior samples")
    evals = {}
    for name, model in models.items():
        evals[name] = evaluate.evaluate(model, images[:plan.eval_images], k=plan.iwae_k)
        evals[name]["epochs"] = len(checkpoint.read_metrics(runs[name]))
        evals[name]["train_seconds"] = sum(r["seconds"] for r in checkpoint.read_metrics(runs[name]))
    interp = [row for name in ("vae2", "vae10", "vae500") for row in
              interpolation_stats(models[name], judge, plan.pairs)]
    prior = {name: {k: v for k, v in gallery.prior_quality(models[name], judge, plan.prior_samples).items()
                    if k in ("confidence", "confident")} for name in ("ae2", "vae2")}
    path = report.write(out / "report.html", f, evals, interp, prior, plan, quick)
    log(f"wrote {path} in {time.perf_counter() - t0:.0f} s")
    return path
