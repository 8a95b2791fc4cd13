"""The report's data: the demo's builder puts everything the page shows into one ReportData, and any subset of
the demo's models renders (sections and rows follow the models present)."""

import json
import re

import numpy as np
import pytest

from latentwalk.report import html
from latentwalk.report.demo import Plan, STEPS, build

from conftest import train_small

pytestmark = pytest.mark.slow          # the demo's builder, four times

TINY = Plan(epochs=1, frames=8, sphere_frames=8, pairs=4, iwae_k=5, eval_images=50, prior_samples=25, measure_n=200,
            ppl_paths=100, geodesic_paths=10, curve_pairs=4)
ALL = ["Auto-encoders and VAEs", "The 2-D latent plane", "What about higher dimensions?", "lerp against slerp",
       "Geodesics: the decoder's shortest paths", "Why the VAE, not the AE"]
METHODS = ("lerp", "slerp", "nlerp", "geodesic")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, small_npz):
    root = tmp_path_factory.mktemp("report-runs")
    return {"ae2": train_small(root / "ae2", small_npz, epochs=1, kind="ae"),
            "vae2": train_small(root / "vae2", small_npz, epochs=1),
            "vae10": train_small(root / "vae10", small_npz, epochs=1, latent_dim=10),
            "vae500": train_small(root / "vae500", small_npz, epochs=1, latent_dim=500)}


def headings(page: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", page)


def test_without_the_500d_model(runs, digit_net, tmp_path):
    data = build({k: runs[k] for k in ("ae2", "vae2", "vae10")}, TINY, digit_net, True, tmp_path, log=lambda s: None)
    page = html.render(data)
    assert headings(page) == ALL
    assert "F10" not in data.figures and "F11" not in data.figures and "F8" in data.figures
    assert [(r.latent_dim, r.method) for r in data.midpoints] == \
        [(z, m) for z in (2, 10) for m in ("lerp", "slerp", "nlerp")]
    assert [r.model for r in data.evaluation] == ["ae2", "vae2", "vae10"]
    assert [r.model for r in data.prior] == ["AE z=2", "VAE z=2"]
    assert "At z = 10, lerp's midpoints" in page and "z = 500" not in page
    assert [(r.model, r.sampler) for r in data.samples] == \
        [("real", "train"), ("AE z=2", "prior"), ("AE z=2", "gmm"), ("VAE z=2", "prior"), ("VAE z=2", "gmm")]
    assert all(r.n == 200 and len(r.class_histogram) == 10 for r in data.samples)
    assert data.samples[0].frechet_distance < min(r.frechet_distance for r in data.samples[1:])    # the ceiling
    assert [(r.latent_dim, r.method) for r in data.paths] == [(z, m) for z in (2, 10) for m in METHODS]
    assert all(r.ppl > 0 for r in data.paths) and [r.paths for r in data.paths[:4]] == [100, 100, 100, 10]
    assert "100 paths per lerp, slerp, nlerp number; 10 paths per geodesic number" in page
    # the geodesic section: its figures, and the numbers of every method on the same pairs of test images
    assert {"geodesic_plane", "geodesic_rows"} <= set(data.figures) and data.curve_pairs == 4
    assert [(r.latent_dim, r.method) for r in data.curves] == [(z, m) for z in (2, 10)
                                                              for m in ("lerp", "slerp", "geodesic")]
    energy = {(r.latent_dim, r.method): r.energy for r in data.curves}
    assert all(energy[z, "geodesic"] <= energy[z, "lerp"] for z in (2, 10))
    assert "the geodesic's energy is" in page
    assert page.count("<table>") == 6 and page.count("<video") == 2   # evaluation, midpoints, PPL, geodesics, prior,
                                                                      # samples


def test_one_model_alone(runs, digit_net, tmp_path):
    data = build({"vae10": runs["vae10"]}, TINY, digit_net, True, tmp_path, log=lambda s: None)
    page = html.render(data)
    assert headings(page) == ["Auto-encoders and VAEs", "What about higher dimensions?", "lerp against slerp",
                              "Geodesics: the decoder's shortest paths"]
    assert data.prior == [] and "F12" not in data.figures and "F2" not in data.figures
    assert "geodesic_plane" not in data.figures and [r.latent_dim for r in data.curves] == [10, 10, 10]
    assert data.samples == [] and [r.latent_dim for r in data.paths] == [10] * 4
    assert page.count("<table>") == 4 and page.count("<video") == 1   # evaluation, midpoints, PPL, geodesics; the
                                                                      # sphere walk


def test_interpolation_figure_and_midpoint_table_share_their_walks(runs, digit_net, tmp_path):
    data = build({"vae500": runs["vae500"]}, TINY, digit_net, True, tmp_path, log=lambda s: None)
    assert STEPS % 2 == 1                                          # t = 1/2 is a point of every path
    assert {"F9", "F10", "F11"} <= set(data.figures)
    scores = json.loads((tmp_path / "vae500" / "interpolate.json").read_text())   # what F10 and F11 drew
    t = np.array(scores["t"])
    mid = t == 0.5
    assert mid.sum() == TINY.pairs
    rows = {r.method: r for r in data.midpoints}
    for method in ("lerp", "slerp", "nlerp"):
        drawn = np.array(scores[f"{method}_norm"])[mid]
        assert rows[method].norm.mean == pytest.approx(drawn.mean(), rel=1e-9)
        assert rows[method].confidence.mean == pytest.approx(np.array(scores[f"{method}_confidence"])[mid].mean())
    assert rows["slerp"].norm.mean == pytest.approx(np.sqrt(500), rel=1e-9)
    assert rows["lerp"].norm.mean < 0.8 * np.sqrt(500)            # near sqrt(d/2) for nearly orthogonal ends
