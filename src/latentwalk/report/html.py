"""One standalone HTML page that retells the post from a ReportData: the models trained here, with the numbers
the post lacked.

Every picture and video is embedded as a data URI, so the single file opens offline anywhere and can be
mailed or archived as it is. A section shows what its data holds and leaves out what it does not. The page
is written atomically: an interrupted run never leaves a half-written report in place of a good one.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .. import atomic
from ..measure import model_measures
from .report_data import ReportData, Stat

CSS = """
body { font: 16px/1.55 Georgia, serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1, h2, h3 { font-family: Helvetica, Arial, sans-serif; }
figure { margin: 1.5em 0; } figure img, figure video { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.92em; color: #444; margin-top: 0.4em; }
table { border-collapse: collapse; margin: 1em 0; font: 14px Helvetica, Arial, sans-serif; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; } th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; } .note { color: #666; font-size: 0.9em; }
.row { display: flex; gap: 1em; flex-wrap: wrap; } .row figure { flex: 1 1 300px; }
"""


def _figure(data: ReportData, key: str) -> str:
    """An embedded picture (or a looping video) with its caption; nothing when the report has no such figure."""
    media = data.figures.get(key)
    if media is None:
        return ""
    uri = f"data:{media.mime};base64," + base64.b64encode(media.data).decode("ascii")
    if media.mime.startswith("video/"):
        body = f'<video src="{uri}" autoplay loop muted playsinline controls></video>'
    else:
        body = f'<img src="{uri}" alt="{html.escape(key)}">'
    return f"<figure>{body}<figcaption>{html.escape(media.caption)}</figcaption></figure>"


def _row(*figures: str) -> str:
    """Figures side by side."""
    return f'<div class="row">{"".join(figures)}</div>' if any(figures) else ""


def _pm(stat: Stat, digits: int = 2) -> str:
    return f"{stat.mean:.{digits}f} ± {stat.std:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _section(title: str, *parts: str) -> list[str]:
    """A heading over its parts, or nothing when every part is empty."""
    return [f"<h2>{title}</h2>", *parts] if any(parts) else []


def _models(data: ReportData) -> list[str]:
    eval_rows = [[r.model, str(r.epochs), r.precision, f"{r.train_seconds:.0f}", f"{r.neg_elbo:.2f}",
                  f"{r.nll_iwae:.2f}" if r.nll_iwae is not None else "—", f"{r.active_units} / {r.latent_dim}"]
                 for r in data.evaluation]
    return _section(
        "Auto-encoders and VAEs",
        "<p>An auto-encoder squeezes each 784-pixel digit through a small code z and learns to rebuild it. A VAE "
        "makes the code stochastic, z = μ + σ ε, and pays a KL price for straying from the prior N(0, I): the "
        "loss is the reconstruction cross-entropy plus that KL, in nats per image.</p>",
        _figure(data, "F1"), _figure(data, "training"),
        _table(["model", "epochs", "trained in", "train s", "test −ELBO", f"NLL (IWAE-{data.iwae_k})", "active units"], eval_rows)
        if eval_rows else "",
        f"<p class=note>Test numbers on the first {data.eval_images} MNIST test images, grey levels as Bernoulli "
        "targets. The importance-weighted bound (IWAE) is always below the −ELBO: the gap is what the "
        "approximate posterior misses. Active units: latent dimensions whose mean code varies with the "
        "input (Burda et al. 2016); a large VAE leaves most of its dimensions unused.</p>" if eval_rows else "")


def _interpolation(data: ReportData) -> list[str]:
    rows = [[str(r.latent_dim), r.method, _pm(r.norm), _pm(r.prior_logpdf, 1), _pm(r.confidence),
             _pm(r.sharpness, 4)] for r in data.midpoints]
    measured = []
    if rows:
        measured = [
            "<p>The post says lerp's middle images look blurrier at 500 dimensions. Measured at t = ½ over "
            f"{data.pairs} random pairs of prior samples on the √d shell per latent size (mean ± standard "
            "deviation), the same pairs the figures above walk:</p>",
            _table(["z", "method", "|z| at t = ½", "log p(z)", "classifier confidence", "sharpness"], rows)]
        by = {(r.latent_dim, r.method): r for r in data.midpoints}
        top = max(r.latent_dim for r in data.midpoints)
        if (top, "lerp") in by and (top, "slerp") in by:
            lerp, slerp = by[top, "lerp"], by[top, "slerp"]
            measured.append(
                f"<p class=note>At z = {top}, lerp's midpoints have norm {_pm(lerp.norm, 1)} against slerp's "
                f"{_pm(slerp.norm, 1)}, a prior log-density higher by "
                f"{lerp.prior_logpdf.mean - slerp.prior_logpdf.mean:.0f} nats (the mode of a Gaussian is not where "
                f"its samples are), and sharpness {lerp.sharpness.mean:.4f} against {slerp.sharpness.mean:.4f}. "
                "Sharpness is the variance of the image's Laplacian; confidence is that of a small CNN trained "
                f"on MNIST ({100 * data.digit_net.test_accuracy:.2f}% test accuracy; weights "
                f"{data.digit_net.network}, SHA-256 {data.digit_net.sha256[:12]}…).</p>")
    return _section("lerp against slerp", _figure(data, "F9"), _figure(data, "F10"), _figure(data, "F11"),
                    _figure(data, "interpolate_test"), *measured, *_path_lengths(data))


def _path_lengths(data: ReportData) -> list[str]:
    sizes = list(dict.fromkeys(r.latent_dim for r in data.paths))
    if not sizes:
        return []
    value = {(r.latent_dim, r.method): r.ppl for r in data.paths}
    counts = {r.method: r.paths for r in data.paths}
    methods = list(counts)
    rows = [[str(z), *(f"{value[z, m]:.2f}" if (z, m) in value else "—" for m in methods)] for z in sizes]
    return ["<p>How smooth each path is, as the perceptual path length (Karras et al. 2019): between two prior "
            "samples at a random t, how far the classifier's unit-normalised features move per unit of t "
            "(squared; ε = 10⁻⁴, 1 % tails trimmed; " + "; ".join(
                f"{n:,} paths per {', '.join(m for m in methods if counts[m] == n)} number"
                for n in dict.fromkeys(counts.values())) + "). Lower is smoother.</p>",
            _table(["z", *(f"PPL {m}" for m in methods)], rows)]


def _geodesics(data: ReportData) -> list[str]:
    rows = [[str(r.latent_dim), r.method, f"{r.length:.2f}", f"{r.energy:.0f}", f"{r.largest_step:.3f}",
             f"{r.ppl:.2f}", f"{r.midpoint:.2f}", "—" if r.method == "geodesic" else f"{100 * r.above_geodesic:.0f}%"]
            for r in data.curves]
    return _section(
        "Geodesics: the decoder's shortest paths",
        "<p>Straight lines and great circles are shortest in the latent space, but what we see is the decoded "
        "image. The decoder pulls image distance back onto the latent plane (Arvanitidis et al. 2018, Shao et al. "
        "2018): its magnification √det(JᵀJ) shades the plane below, dark where a small step changes the digit "
        "a lot. A geodesic minimises the energy of the decoded path, Σ|Δx|² over its steps, starting from "
        "lerp.</p>", _figure(data, "geodesic_plane"), _figure(data, "geodesic_rows"),
        _table(["z", "method", "image length", "energy", "largest step", "own PPL", "midpoint confidence",
                "pairs above the geodesic's energy"], rows) if rows else "",
        f"<p class=note>Means over the same {data.curve_pairs} pairs of encoded test images for every method. "
        "Each path resampled at 257 points and decoded: length Σ|Δx| and energy 256·Σ|Δx|² in pixel space, the "
        "largest single step, the path's own perceptual path length and the classifier's confidence at "
        "t = ½.</p>" if rows else "", *_geodesic_notes(data))


def _geodesic_notes(data: ReportData) -> list[str]:
    """What the table says of the geodesic against lerp, at each latent size, read from the numbers."""
    by = {(r.latent_dim, r.method): r for r in data.curves}
    notes = []
    for z in dict.fromkeys(r.latent_dim for r in data.curves):
        geo, lerp = by.get((z, "geodesic")), by.get((z, "lerp"))
        if geo is None or lerp is None:
            continue
        surer = "more" if geo.midpoint > lerp.midpoint else "less"
        notes.append(f"At z = {z} the geodesic's energy is {100 * (1 - geo.energy / lerp.energy):.0f}% below "
                     f"lerp's on average (lower on {100 * lerp.above_geodesic:.0f}% of the pairs), its largest step "
                     f"{geo.largest_step:.3f} against {lerp.largest_step:.3f}, and the classifier is {surer} sure "
                     f"of its midpoints ({geo.midpoint:.2f} against {lerp.midpoint:.2f})"
                     + (": shortest in pixels is not most digit-like, a fade between two digits is short."
                        if surer == "less" else "."))
    return [f"<p>{' '.join(notes)}</p>"] if notes else []


def _samples(data: ReportData) -> list[str]:
    if not data.samples:
        return []
    rows = [[r.model, *model_measures.cells(r), " ".join(f"{100 * h:.0f}" for h in r.class_histogram)]
            for r in data.samples]
    return [f"<p>The same question as the field measures it, on the classifier's features: {data.sample_n:,} "
            f"generated images against {data.sample_n:,} test images per row, from the prior and from a Gaussian "
            "mixture fitted to the model's training codes (gmm), beside real training images (the ceiling: "
            "precision and recall stay below 1 even there). Lower Fréchet distance is better; precision asks "
            "whether the samples look real, recall and coverage whether they cover all of the data.</p>",
            _table(["model", *(title for _, title, _ in model_measures.COLUMNS), "digits 0–9 (% of samples)"], rows),
            f"<p class=note>Features: {data.digit_net.network} ({data.digit_net.features}-d, SHA-256 "
            f"{data.digit_net.sha256[:12]}…). Class entropy is log 10 = 2.30 when all ten digits are drawn alike; a "
            "0 in the digits column is a digit the model never draws.</p>"]


def render(data: ReportData) -> str:
    """The whole page for `data`, as one string."""
    prior_rows = [[r.model, f"{r.confidence:.3f}", f"{100 * r.confident:.1f}%"] for r in data.prior]
    trained = ", ".join(data.models[:-1]) + (" and " if len(data.models) > 1 else "") + data.models[-1] \
        if data.models else "no models"
    sections = [
        "<h1>Latent space interpolations, reproduced</h1>",
        f"<p class=note>Generated by latentwalk {data.version} from models trained on this machine"
        f"{' (quick mode: fewer epochs, frames and samples)' if data.quick else ''}: {trained}, all "
        f"784-200-200-z MLPs trained {data.epochs} epochs on MNIST.</p>",
        *_models(data),
        *_section("The 2-D latent plane", _figure(data, "F2"), _figure(data, "scatter"), _figure(data, "samples"),
                  _figure(data, "F3")),
        *_section("What about higher dimensions?", _figure(data, "F4"), _figure(data, "F5"),
                  _row(_figure(data, "F6"), _figure(data, "F7")), _figure(data, "F8")),
        *_interpolation(data),
        *_geodesics(data),
        *_section("Why the VAE, not the AE", _figure(data, "F12"),
                  _table(["model", "mean classifier confidence", "prior samples judged a clear digit (≥ 0.9)"],
                         prior_rows) if prior_rows else "", *_samples(data)),
    ]
    trained_in = "; ".join(f"{r.model} in {r.precision}" for r in data.evaluation)
    footer = ("<footer><p class=note>Every figure, score and number on this page comes from decoding in float32, "
              "whatever precision a model trained in, so none depends on this machine's bf16 support"
              f"{' (trained: ' + trained_in + ')' if trained_in else ''}.</p></footer>")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>latentwalk report</title>"
            f"<style>{CSS}</style></head><body>{''.join(sections)}{footer}</body></html>")


def write(path: str | Path, data: ReportData) -> Path:
    """Render `data` and write the page atomically to `path`."""
    atomic.write_text(path, render(data))
    return Path(path)
