"""`latentwalk demo`: the whole post from models trained here, as one standalone HTML report.

Trains (or reuses, or resumes) the post's four models on bundled MNIST: an AE and a VAE with z = 2, VAEs
with z = 10 and z = 500; draws every figure with the gallery (written to `out`/figures); measures what the
post only eyeballs (and stores each model's measures in its run folder, for the explorer's cards); builds one
ReportData and writes `report.html` from it. A second run with the models
present only re-renders; an interrupted run resumes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..data import datasets
from ..figures import draw, gallery, output
from ..figures.output import Picture, Table
from ..measure import classifier, curves, evaluate, model_measures, ppl, quality, scores, stored
from ..models.autoencoder import AutoEncoder, ModelConfig
from ..run import checkpoint, lock
from ..run.config import DataConfig, TrainConfig
from ..version import __version__
from ..walk import core
from . import html, parallel_training
from .report_data import (CurveRow, EvalRow, Media, MidpointRow, Network, PathRow, PriorRow, ReportData,
                       SampleRow, Stat)

MODELS = {"ae2": ("ae", 2), "vae2": ("vae", 2), "vae10": ("vae", 10), "vae500": ("vae", 500)}
STEPS = 11          # points on each interpolation: odd, so that t = 1/2 is one of them
GEODESIC_FIGURE = ("lerp", "slerp", "geodesic")
SHOWN_PAIRS = 6     # pairs drawn over the plane of the geodesic figure


@dataclasses.dataclass(frozen=True)
class Plan:
    """How much work each part gets: the default demo, or --quick (same sections, less of everything)."""
    epochs: int = TrainConfig.epochs
    frames: int = 300
    sphere_frames: int = 600
    pairs: int = 100
    iwae_k: int = 200
    eval_images: int = 1000
    prior_samples: int = 1000
    measure_n: int = 10_000       # generated and real images per sample-measure row
    ppl_paths: int = 2_000        # random prior paths per path length
    geodesic_paths: int = 30      # random prior geodesics per path length (solved together: 5.3 s for z = 500)
    curve_pairs: int = 20         # test-image pairs behind the geodesic table

    @staticmethod
    def quick() -> Plan:
        return Plan(epochs=2, frames=60, sphere_frames=120, pairs=20, iwae_k=100, eval_images=500,
                    prior_samples=300, measure_n=1000, ppl_paths=300, geodesic_paths=10, curve_pairs=5)


class Stopwatch:
    """The wall time of each stage of the demo: `stage(name)` ends the running stage and starts `name`."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._name, self._start = None, time.perf_counter()

    def stage(self, name: str | None) -> None:
        now = time.perf_counter()
        if self._name is not None:
            self.seconds[self._name] = self.seconds.get(self._name, 0.0) + now - self._start
        self._name, self._start = name, now

    def table(self) -> list[str]:
        """One line a stage and the total, to print at the end."""
        self.stage(None)
        width = max(len(n) for n in self.seconds) if self.seconds else 5
        total = sum(self.seconds.values())
        return [f"{'stage':{width}s}  seconds", *(f"{n:{width}s}  {v:7.1f}" for n, v in self.seconds.items()),
                f"{'total':{width}s}  {total:7.1f}"]


def _precision(rows: list[dict]) -> str:
    """The precisions a run's epochs trained in, in order of first use ("bf16", or "bf16, float32" after a resume
    elsewhere); runs from before the precision was recorded name it by their `amp` field."""
    used = [r.get("precision") or {"bf16": "bf16", "fp16": "fp16"}.get(r.get("amp"), "float32") for r in rows]
    return ", ".join(dict.fromkeys(used))


def _media(outputs: list[Picture | Table], name: str, caption: str, suffix: str = ".png") -> Media:
    return Media(output.find(outputs, name).files[suffix], output.MIME[suffix], caption)


def _midpoints(z: int, walks: dict[str, list[core.Walk]]) -> list[MidpointRow]:
    """Each method's scores at t = 1/2 (the middle of STEPS points), over all pairs."""
    mid = STEPS // 2
    return [MidpointRow(latent_dim=z, method=m, **{k: Stat.of([w.scores[k][mid] for w in ws])
                                                   for k in ("norm", "prior_logpdf", "confidence", "sharpness")})
            for m, ws in walks.items()]


def _sample_rows(models: dict[str, tuple[Path, AutoEncoder]], digit_net: classifier.DigitNet, images, n: int,
                 log) -> list[SampleRow]:
    """The real row, then prior and mixture samples of each model, against the first `n` test images."""
    real = quality.Reference.of(classifier.features(digit_net, images[:n]))
    train_x = datasets.load("mnist", "train")[0]
    rows = [("real", model_measures.real_row(digit_net, real, train_x))]
    for label, (run, model) in models.items():
        measured = [model_measures.sampler_row(s, run, model, digit_net, real, train_x, log=log)
                    for s in ("prior", "gmm")]
        if stored.store(run, model.weights_sha256, [rows[0][1], *measured]) is None:
            log(stored.not_stored(run))
        rows += [(label, r) for r in measured]
    names = {f.name for f in dataclasses.fields(SampleRow)} - {"model", "sampler"}
    return [SampleRow(model=label, sampler="train" if label == "real" else r["sampler"],
                      **{k: r[k] for k in names})
            for label, r in rows]


@dataclasses.dataclass
class _Drawing:
    """What every stage of the report reads (the models, the test digits, the scorers) and what each adds: figures
    by id, written under `fig_dir` as they are drawn."""
    runs: dict[str, Path]
    plan: Plan
    digit_net: classifier.DigitNet
    fig_dir: Path
    log: Callable[[str], None]
    models: dict[str, AutoEncoder] = dataclasses.field(init=False)
    figures: dict[str, Media] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.models = {name: checkpoint.load(run) for name, run in self.runs.items()}
        self.judged = scores.scorers(self.digit_net)
        self.images, self.labels = datasets.load("mnist", "test")

    def drawn(self, outputs: list[Picture | Table], folder: str) -> list[Picture | Table]:
        output.write(outputs, self.fig_dir / folder)
        return outputs

    def add(self, key: str, outputs: list[Picture | Table], name: str, caption: str, suffix: str = ".png") -> None:
        self.figures[key] = _media(outputs, name, caption, suffix)

    def plane_figures(self, stage: Callable[[str], None]) -> None:
        """Training curves; F1 to F3 and the plane's scatter and samples, from the 2-D VAE."""
        metrics = {name: checkpoint.read_metrics(run) for name, run in self.runs.items()}
        self.add("training", self.drawn([draw.training_curves(metrics, "training_curves")], "."), "training_curves",
                 "Training curves: −ELBO (for the AE, reconstruction) on the training and test sets after each "
                 "epoch.")
        summaries = {name: self.drawn(gallery.model_summary(model), name) for name, model in self.models.items()}
        if "vae2" not in self.models:
            return
        vae2, images, labels = self.models["vae2"], self.images, self.labels
        self.add("F1", summaries["vae2"], "model", "F1. The 2-D VAE: encoder to μ and log σ², a sampled z, decoder "
                                                   "back to pixel probabilities.")
        self.add("F2", self.drawn(gallery.grid(vae2, 20, (-3.0, 3.0)), "vae2"), "grid",
                 "F2. Decoding a 20×20 grid of the plane [−3, 3]²: digits morph smoothly into each other; every "
                 "point of the plane decodes to something digit-like.")
        self.add("scatter", self.drawn(gallery.scatter(vae2, images[:5000], labels[:5000]), "vae2"), "scatter",
                 "Where the test digits land: each class occupies a region, and together they fill the prior's disc "
                 "(dashed: 1, 2, 3 σ).")
        self.add("samples", self.drawn(gallery.samples(vae2, images, 16), "vae2"), "samples",
                 "Samples from the prior, and test digits with their reconstructions: two numbers per digit keep its "
                 "identity and slant, lose the details.")
        stage("rendering the spiral")
        self.add("F3", self.drawn(gallery.spiral(vae2, self.plan.frames, scorers=self.judged), "vae2"), "spiral",
                 "F3. Moving through the plane: the spiral x(t) = (0.2t − 2) sin t, y(t) = (0.2t − 2) cos t over the "
                 "prior's density, both coordinates against t, and the decoded digit at every step.", ".mp4")

    def geometry_figures(self) -> None:
        """F4 to F7 and F9: no model needed."""
        geometry = self.drawn(gallery.geometry_figures(), "geometry")
        for key, name, caption in (
                ("F4", "ball_volume", "F4. The volume of the unit n-ball rises to its maximum at n = 5 (8π²/15 ≈ "
                                      "5.26) and then falls toward 0."),
                ("F5", "norms", "F5. Norms of samples from N(0, I_d): the mass leaves the origin for a thin shell of "
                                "radius ≈ √d (the chi distribution, drawn over each histogram)."),
                ("F6", "sphere_3d", "F6. A walk on a sphere in hyperspherical coordinates, over points drawn "
                                    "uniformly on it."),
                ("F7", "sphere_pairs", "F7. The same kind of walk in 4-D, seen through every pair of coordinates."),
                ("F9", "lerp_slerp", "F9. Between two codes on the √d shell, lerp cuts the chord and sinks to √(d/2) "
                                     "halfway, where the prior almost never puts codes; slerp follows the arc.")):
            self.add(key, geometry, name, caption)

    def sphere_figures(self) -> None:
        """F8 and the test-digit interpolations, from the 10-D VAE."""
        if "vae10" not in self.models:
            return
        vae10 = self.models["vae10"]
        self.add("F8", self.drawn(gallery.sphere_walk(vae10, self.plan.sphere_frames, 20, scorers=self.judged),
                                  "vae10"),
                 "sphere_walk", "F8. The walk on the √10 sphere decoded by the 10-D VAE: the shell is where the "
                 "prior's mass is, so the images stay digit-like; the classifier's confidence follows them.", ".mp4")
        shapes = gallery.interpolation_curves(vae10, list(core.CLOSED_FORM), STEPS, "test", 0, 1, self.images)
        test_walks = core.interpolations(vae10, shapes, STEPS, self.judged)
        self.add("interpolate_test", self.drawn(gallery.interpolate(vae10, test_walks, "test"), "vae10/test"),
                 "interpolate", "The same three methods between two encoded test digits (10-D VAE).")

    def walked(self) -> list[str]:
        return [name for name in ("vae2", "vae10", "vae500") if name in self.models]

    def midpoints(self) -> list[MidpointRow]:
        """Each VAE's midpoint scores over prior pairs; F10 and F11 from the 500-D VAE."""
        rows = []
        for name in self.walked():
            model = self.models[name]
            shapes = gallery.interpolation_curves(model, list(core.CLOSED_FORM), STEPS, "prior", 0, self.plan.pairs)
            walks = core.interpolations(model, shapes, STEPS, self.judged)
            rows += _midpoints(model.latent_dim, walks)
            if name == "vae500":
                drawn_walks = self.drawn(gallery.interpolate(model, walks, "prior"), name)
                self.add("F10", drawn_walks, "interpolate", "F10. Two prior samples of the 500-D VAE, scaled to "
                         "√500, interpolated by lerp, slerp and nlerp (the middle column is t = ½).")
                self.add("F11", drawn_walks, "interpolate_norms", f"F11. |z| along each path (mean and range over "
                         f"{self.plan.pairs} pairs): slerp and nlerp stay at √d, lerp dips to √(d/2).")
        return rows

    def path_lengths(self) -> list[PathRow]:
        """Each VAE's path length per method, also kept in its run folder (and read from there when its weights
        were measured so before: a second demo does not walk them again)."""
        rows = []
        counts = ppl.path_counts(self.plan.ppl_paths, self.plan.geodesic_paths)
        for name in self.walked():
            model = self.models[name]
            known = stored.lengths(self.runs[name], counts, model.weights_sha256)
            lengths = {m: known.get(m) or (ppl.path_length(model, self.digit_net, m, n), n) for m, n in counts.items()}
            if lengths != known and stored.store(self.runs[name], model.weights_sha256, lengths=lengths) is None:
                self.log(stored.not_stored(self.runs[name]))
            rows += [PathRow(latent_dim=model.latent_dim, method=m, ppl=v, paths=n)
                     for m, (v, n) in lengths.items()]
        return rows

    def geodesics(self) -> list[CurveRow]:
        """The path numbers of lerp, slerp and the geodesic between test digits; the geodesic figures (z = 2)."""
        rows = []
        for name in ("vae2", "vae10"):
            if name not in self.models:
                continue
            model = self.models[name]
            ends = core.endpoints(model, "test", self.plan.curve_pairs, 0, self.images)
            shapes = core.curves(model, GEODESIC_FIGURE, ends)
            numbers = curves.numbers(model, self.digit_net, shapes)         # the figures below read the same geodesics
            geodesic_energy = numbers["geodesic"]["energy"]
            rows += [CurveRow(latent_dim=model.latent_dim, method=m,
                              **{k: float(v[k].mean()) for k in curves.NUMBERS},
                              above_geodesic=float(np.mean(v["energy"] > geodesic_energy)))
                     for m, v in numbers.items()]
            if name == "vae2":
                self.geodesic_figures(model, shapes)
        return rows

    def geodesic_figures(self, model: AutoEncoder, shapes: dict[str, core.Curve]) -> None:
        rows = gallery.interpolate(model, core.interpolations(model, shapes, STEPS, self.judged), "test")
        self.add("geodesic_rows", self.drawn(rows, "vae2/geodesic"), "interpolate",
                 "lerp, slerp and the geodesic between the first pair, t = 0 … 1.")
        shown = {m: ws[:SHOWN_PAIRS] for m, ws in core.interpolations(model, shapes, 41).items()}
        plane = gallery.paths_plane(model, shown, self.images[:2000], self.labels[:2000])
        self.add("geodesic_plane", self.drawn(plane, "vae2/geodesic"), "interpolate_plane",
                 f"Paths between {len(shown['geodesic'])} pairs of encoded test digits over the 2-D VAE's plane, "
                 "shaded by the decoder's magnification (log scale, dark: a small step changes the digit a lot); "
                 "the dots are test digits.")

    def prior_samples(self) -> list[PriorRow]:
        """F12: how the classifier judges the prior samples of the AE and the VAE with z = 2."""
        ae2, vae2 = self.models["ae2"], self.models["vae2"]
        walks = [gallery.prior_walk(m, self.judged, self.plan.prior_samples) for m in (ae2, vae2)]
        compared = gallery.side_by_side([ae2, vae2], self.images[:5000], self.labels[:5000], walks)
        self.add("F12", self.drawn(compared, "compare"), "compare",
                 "F12. Nothing asks the AE's codes to follow the prior: they spread wherever reconstruction likes, "
                 "leaving holes and far-out regions, so a prior sample z ~ N(0, I) may land between digits. The "
                 "VAE's KL term packs its codes into the prior. The table measures how often each model's prior "
                 "samples decode to a digit the classifier is sure of.")
        return [PriorRow(model=f"{m.label} z=2", confidence=float(w.scores["confidence"].mean()),
                         confident=scores.confident_share(w.scores["confidence"])) for m, w in zip((ae2, vae2), walks)]

    def sample_measures(self) -> list[SampleRow]:
        return _sample_rows({"AE z=2": (self.runs["ae2"], self.models["ae2"]),
                             "VAE z=2": (self.runs["vae2"], self.models["vae2"])}, self.digit_net, self.images,
                            self.plan.measure_n, self.log)

    def evaluation(self) -> list[EvalRow]:
        """Each model's test −ELBO, IWAE bound and active units, beside its training time and precision."""
        rows = []
        for name, model in self.models.items():
            metrics = checkpoint.read_metrics(self.runs[name])
            r = evaluate.evaluate(model, self.images[:self.plan.eval_images], k=self.plan.iwae_k)
            rows.append(EvalRow(model=name, latent_dim=model.latent_dim, epochs=len(metrics),
                                train_seconds=sum(row["seconds"] for row in metrics), neg_elbo=r["neg_elbo"],
                                nll_iwae=r["nll_iwae"], active_units=r["active_units"], precision=_precision(metrics)))
        return rows


def build(runs: dict[str, Path], plan: Plan, digit_net: classifier.DigitNet, quick: bool, fig_dir: Path,
          log: Callable[[str], None] = print, stage: Callable[[str], None] | None = None) -> ReportData:
    """Draw and measure everything the report shows for the trained `runs` (any subset of MODELS, by name);
    the figures are also written under `fig_dir`. Parts whose models are absent are left out. `stage` is
    told the name of each stage as it starts (default: `log`)."""
    stage = stage or log
    d = _Drawing(runs, plan, digit_net, fig_dir, log)
    stage("drawing the figures")
    d.plane_figures(stage)
    stage("geometry figures")
    d.geometry_figures()
    if "vae10" in d.models:
        stage("rendering the sphere walk")
    d.sphere_figures()
    stage("interpolation midpoints")
    midpoints = d.midpoints()
    stage("path lengths")
    paths = d.path_lengths()
    stage("walking geodesics")
    geodesics = d.geodesics()
    stage("prior samples (F12)")
    prior, samples = [], []
    if "ae2" in d.models and "vae2" in d.models:
        prior = d.prior_samples()
        stage("sample measures")
        samples = d.sample_measures()
    stage("evaluating (IWAE)")
    evaluation = d.evaluation()
    described = [f"{'an AE' if m.config.kind == 'ae' else 'a VAE'} with z = {m.latent_dim}" for m in d.models.values()]
    return ReportData(version=__version__, digit_net=Network(**classifier.INFO), quick=quick, epochs=plan.epochs,
                      models=described, eval_images=plan.eval_images, iwae_k=plan.iwae_k, pairs=plan.pairs,
                      prior_samples=plan.prior_samples, figures=d.figures, evaluation=evaluation, midpoints=midpoints,
                      prior=prior, sample_n=plan.measure_n, samples=samples, paths=paths,
                      curve_pairs=plan.curve_pairs, curves=geodesics)


def run_demo(out: str | Path = "runs/demo", quick: bool = False, log: Callable[[str], None] = print) -> Path:
    """Train or reuse the models, draw and measure everything, write `out`/report.html; return its path. The
    demo folder is locked while it runs (run/lock.py): a second demo on it stops in one line."""
    out = Path(out)
    plan = Plan.quick() if quick else Plan()
    t0 = time.perf_counter()
    runs = {name: out / name for name in MODELS}
    with lock.writer(out):
        digit_net, watch = classifier.load(), Stopwatch()
        watch.stage("training")
        recipe = TrainConfig(epochs=plan.epochs, seed=0, device="cpu")          # the default recipe
        parallel_training.train_all({runs[name]: (ModelConfig(kind=kind, latent_dim=z, hidden=(200, 200)), recipe,
                                     DataConfig("mnist")) for name, (kind, z) in MODELS.items()}, log)
        data = build(runs, plan, digit_net, quick, out / "figures", log,
                     stage=lambda name: (watch.stage(name), log(name)))
        watch.stage("writing the report")
        path = html.write(out / "report.html", data)
    for line in watch.table():
        log(line)
    log(f"wrote {path} in {time.perf_counter() - t0:.0f} s")
    return path
