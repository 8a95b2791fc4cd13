"""examples/own_vae: a user's own VAE, in plain PyTorch, trained by its own script (with latentwalk unimportable),
then walked, measured and served by latentwalk through `--model-entry own_vae.vae:load`, from the user's folder."""

import ast
import base64
import json
import shutil
import signal
import subprocess
import sys

import httpx
import numpy as np
import pytest
import torch

from conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, run_cli, split_url, start_serve, stop
from latentwalk.data import datasets

EXAMPLE = ROOT / "examples" / "own_vae"
ENTRY = "own_vae.vae:load"


@pytest.fixture
def latentwalk(capsys, monkeypatch):
    """`latentwalk(cwd, *args)`: the command run from the user's folder `cwd` (its modules importable, as with
    `python -m latentwalk` there), in this process."""
    def run(cwd, *args) -> subprocess.CompletedProcess:
        with monkeypatch.context() as m:
            m.chdir(cwd)
            m.syspath_prepend(str(cwd))
            code, out, err = run_cli(capsys, *args)
        return subprocess.CompletedProcess(["latentwalk", *map(str, args)], code, out, err)
    return run


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A user's folder holding a copy of the example, trained there by its own script: one epoch on 10,000
    digits, in a Python where importing latentwalk fails."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(EXAMPLE, root / "own_vae", ignore=shutil.ignore_patterns("weights.pt", "__pycache__"))
    train = ("import runpy, sys; sys.modules['latentwalk'] = None; "
             "runpy.run_module('own_vae.train', run_name='__main__', alter_sys=True)")
    p = subprocess.run([sys.executable, "-c", train, "--epochs", "1", "--limit", "10000",
                        "--mnist", datasets.BUNDLE_DIR / "mnist"], cwd=root, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    assert "epoch 1: -ELBO" in p.stdout and (root / "own_vae" / "weights.pt").is_file()
    return root


def test_the_examples_do_not_import_latentwalk():
    for path in (ROOT / "examples").rglob("*.py"):
        tree = ast.parse(path.read_text())
        imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names] + \
                   [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not any(m.split(".")[0] == "latentwalk" for m in imported), path


@pytest.mark.slow
def test_walked(project, latentwalk):
    p = latentwalk(project, "interpolate", "--model-entry", ENTRY, "--method", "slerp,geodesic", "--pairs", "3",
                   "--out", "figs")
    assert p.returncode == 0, p.stderr
    figs = project / "figs"
    for name in ("interpolate.png", "interpolate_plane.png"):
        assert (figs / name).stat().st_size > 10_000
    table = json.loads((figs / "interpolate.json").read_text())
    assert np.allclose(table["slerp_norm"], np.sqrt(2), atol=1e-6)          # prior pairs on the sqrt(d) circle
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in p.stdout.splitlines()
            if line.startswith("  ")}
    assert rows["geodesic"][1] < rows["slerp"][1]       # energy: the geodesic is the shorter path as images see it
    assert not list(project.glob("own_vae/*.json"))     # nothing written beside the user's model


@pytest.mark.slow
def test_measured(project, latentwalk):
    p = latentwalk(project, "measure", "--model-entry", ENTRY, "--n", "1000", "--paths", "100",
                   "--geodesic-paths", "10", "--json")
    assert p.returncode == 0, p.stderr
    rows = {r["sampler"]: r for r in map(json.loads, p.stdout.splitlines())}
    assert list(rows) == ["real", "prior", "gmm", "posterior"]
    assert rows["real"]["frechet_distance"] < 50 < rows["prior"]["frechet_distance"]
    assert all(0 <= r["precision"] <= 1 and 0 <= r["coverage"] <= 1 for r in rows.values())
    assert rows["prior"]["run"] == ENTRY and rows["prior"]["label"] == "own VAE" and rows["prior"]["latent_dim"] == 2
    assert set(rows["prior"]["ppl"]) == {"lerp", "slerp", "nlerp", "geodesic"}


@pytest.mark.slow
def test_served_beside_nothing_else(project):
    proc, url = start_serve("--model-entry", ENTRY, "--port", "0", cwd=project)
    try:
        base, token = split_url(url)
        with httpx.Client(base_url=base, params={"token": token}, timeout=120) as client:
            (model,) = client.get("/api/models").json()["models"]
            assert model["name"] == ENTRY and model["label"] == "own VAE" and model["data_name"] == "mnist"
            assert model["hidden"] is None and len(model["scatter"]["x"]) == 2000
            assert model["data"] == datasets.fingerprint(datasets.load("mnist")[0])   # as a run on MNIST records
            assert model["methods"] == ["lerp", "slerp", "nlerp", "geodesic"]
            z = [[0.0, 0.0], [1.5, -0.5]]
            answer = client.post("/api/decode", json={"model": ENTRY, "z": z}).json()
            pixels = np.frombuffer(base64.b64decode(answer["images"]["pixels"]), np.uint8).reshape(2, 28, 28)
            sys.path.insert(0, str(project))
            try:
                from own_vae.vae import load
                expected = load().decode(torch.tensor(z)).detach().numpy()[:, 0] * 255
            finally:
                sys.path.remove(str(project))
            assert np.abs(pixels - expected).max() <= 0.5001             # the model's own decode, to the byte
            card = client.post("/api/measure", json={"model": ENTRY}).json()["record"]
            assert set(card["samples"]) == {"real", "prior", "gmm", "posterior"}
            assert card["samples"]["prior"]["n"] == 1000 and card["paths"]["geodesic"]["paths"] == 30

            from playwright.sync_api import sync_playwright
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(url)
                page.wait_for_function("document.body.dataset.ready === '1'")
                text = page.inner_text("#plane-panels")
                browser.close()
            assert not errors
            assert "own VAE z=2 · own_vae.vae:load" in text and "its own networks · 1x28x28 images" in text
            assert "posterior" in text          # the measures taken above, on the model's card
    finally:
        out = stop(proc, signal.SIGINT)
    assert proc.returncode == 0, out
