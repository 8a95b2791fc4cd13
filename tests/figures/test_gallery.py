"""Every figure command on real (small) trained models: the files exist, have the right size, are not blank."""

import json
from xml.etree import ElementTree

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from latentwalk.cli import main

from conftest import one_line_error, train_small


@pytest.fixture(scope="session")
def runs(tmp_path_factory, small_npz):
    root = tmp_path_factory.mktemp("gallery")
    return {"vae2": train_small(root / "vae2", small_npz, epochs=3),
            "ae2": train_small(root / "ae2", small_npz, epochs=3, kind="ae"),
            "vae6": train_small(root / "vae6", small_npz, epochs=2, latent_dim=6),
            "vae1": train_small(root / "vae1", small_npz, epochs=1, latent_dim=1)}


def cli(capsys, *argv) -> list[str]:
    main([str(a) for a in argv])
    return [line.split(" ", 1)[1] for line in capsys.readouterr().out.splitlines() if line.startswith("wrote ")]


def assert_picture(path, min_side=200):
    img = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    assert min(img.shape) >= min_side, (path, img.shape)
    assert img.std() > 10, f"{path} looks blank"


def test_grid_scatter_samples_traverse_summary(capsys, runs, tmp_path):
    out = tmp_path / "figs"
    files = cli(capsys, "grid", runs["vae2"], "--size", "12", "--out", out)
    files += cli(capsys, "grid", runs["vae2"], "--size", "8", "--gaussian", "--out", out)
    files += cli(capsys, "scatter", runs["vae2"], "--limit", "500", "--out", out)
    files += cli(capsys, "samples", runs["vae2"], "--n", "8", "--out", out)
    files += cli(capsys, "traverse", runs["vae6"], "--steps", "7", "--out", out)
    files += cli(capsys, "summary", runs["vae6"], "--out", out)
    files += cli(capsys, "grid", runs["vae6"], "--dims", "1", "4", "--fix", "0.5", "--size", "6", "--out", out)
    names = {p.rsplit("/", 1)[1] for p in files}
    assert {"grid.png", "grid.csv", "grid.json", "grid_gaussian.png", "scatter.png", "samples.png",
            "traverse.png", "model.png", "model.svg"} <= names
    for f in files:
        if f.endswith(".png"):
            assert_picture(f)
    grid_scores = json.loads((out / "grid.json").read_text())
    assert len(grid_scores["z2"]) == 36 and set(grid_scores) >= {"norm", "prior_logpdf", "sharpness"}
    assert Image.open(out / "traverse.png").size[1] > Image.open(out / "samples.png").size[1] * 0.8


def test_spiral_video(capsys, runs, tmp_path, digit_net):
    files = cli(capsys, "spiral", runs["vae2"], "--steps", "40", "--fps", "20", "--gif", "--out", tmp_path)
    mp4 = tmp_path / "spiral.mp4"
    assert str(mp4) in files and str(tmp_path / "spiral.gif") in files
    reader = imageio_ffmpeg.read_frames(str(mp4))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8).reshape(meta["size"][1], meta["size"][0], 3) for f in reader]
    assert len(frames) == 40 and meta["size"] == (1200, 400) and meta["fps"] == 20
    assert not np.array_equal(frames[0], frames[-1]) and frames[20].std() > 10
    assert Image.open(tmp_path / "spiral.gif").n_frames == 20
    rows = (tmp_path / "spiral.csv").read_text().splitlines()
    assert rows[0] == "step,t,z1,z2,norm,prior_logpdf,digit,confidence,entropy,sharpness" and len(rows) == 41


def test_sphere_walk(capsys, runs, tmp_path, digit_net):
    files = cli(capsys, "sphere-walk", runs["vae6"], "--steps", "30", "--loops", "3", "--out", tmp_path)
    names = {f.rsplit("/", 1)[1] for f in files}
    assert {"sphere_walk.mp4", "sphere_walk_pairs.png", "sphere_walk_3d.png", "sphere_walk.csv"} <= names
    meta = next(imageio_ffmpeg.read_frames(str(tmp_path / "sphere_walk.mp4")))
    assert meta["size"] == (1280, 320)
    assert sum(1 for _ in imageio_ffmpeg.read_frames(str(tmp_path / "sphere_walk.mp4"))) - 1 == 30
    scores = json.loads((tmp_path / "sphere_walk.json").read_text())
    np.testing.assert_allclose(scores["norm"], np.sqrt(6), rtol=1e-6)


def test_interpolate_scores_every_method(capsys, runs, tmp_path, digit_net):
    cli(capsys, "interpolate", runs["vae6"], "--steps", "9", "--pairs", "5", "--out", tmp_path)
    assert_picture(tmp_path / "interpolate.png", 150)
    assert_picture(tmp_path / "interpolate_norms.png")
    s = json.loads((tmp_path / "interpolate.json").read_text())
    assert len(s["t"]) == 45
    mid = np.array(s["t"]) == 0.5
    np.testing.assert_allclose(np.array(s["slerp_norm"])[mid], np.sqrt(6), rtol=1e-6)
    assert (np.array(s["lerp_norm"])[mid] < np.sqrt(6)).all()
    cli(capsys, "interpolate", runs["vae2"], "--from", "test", "--method", "slerp", "--out", tmp_path / "t")
    assert (tmp_path / "t" / "interpolate.png").exists()


@pytest.mark.slow
def test_compare_and_geometry(capsys, runs, tmp_path, digit_net):
    files = cli(capsys, "compare", runs["ae2"], runs["vae2"], "--n", "200", "--out", tmp_path)
    assert_picture(tmp_path / "compare.png", 500)
    s = json.loads((tmp_path / "compare.json").read_text())
    assert len(s["ae_confidence"]) == 200 and len(s["vae_confidence"]) == 200
    files = cli(capsys, "geometry", "--out", tmp_path / "geo", "--dims", "1,10,100")
    assert len(files) == 10
    for f in files:
        if f.endswith(".png"):
            assert_picture(f)
        else:                                       # SVG: vector paths, and text kept as text
            root = ElementTree.parse(f).getroot()
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
            assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 10
            assert len(root.findall(".//{http://www.w3.org/2000/svg}text")) > 3


@pytest.mark.parametrize("argv, message", [
    (["grid", "{vae6}"], "needs --dims I J"),
    (["grid", "{vae2}", "--extent", "3", "-3"], "min < max"),
    (["grid", "{vae2}", "--dims", "0", "0"], "two different dimensions"),
    (["spiral", "{vae2}", "--steps", "0", "--no-classifier"], "--steps must be in 2..10,000"),
    (["spiral", "{vae6}", "--no-classifier"], "2-D latent plane"),
    (["interpolate", "{vae2}", "--method", "lerp,cubic", "--no-classifier"], "unknown method cubic"),
    (["interpolate", "{vae2}", "--steps", "0", "--no-classifier"], "--steps must be an integer in 2..64"),
    (["sphere-walk", "{vae1}", "--no-classifier"], "sphere walk needs d >= 2"),
    (["compare", "{vae2}", "{vae6}"], "compare draws 2-D latent planes: got z = 2 and z = 6"),
    (["compare", "{vae2}"], "compare takes two models"),
    (["compare", "{vae2}", "{vae2}"], "the same folder is given twice"),
    (["traverse", "{vae2}", "--span", "-1"], "--span must be > 0"),
])
def test_figure_errors(capsys, runs, tmp_path, argv, message):
    err = one_line_error(capsys, *[a.format(**runs) for a in argv], "--out", tmp_path / "x")
    assert message in err
    assert not (tmp_path / "x").exists()
