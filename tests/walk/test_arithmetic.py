"""Latent arithmetic: attribute vectors from labels and measured properties, moves along them, analogy grids;
on a real MNIST model the vectors do what they are named for."""

import json

import numpy as np
import pytest

from latentwalk.data import datasets
from latentwalk.measure import attributes, classifier, scores
from latentwalk.models import ModelConfig
from latentwalk.run import checkpoint
from latentwalk.run.config import DataConfig, TrainConfig
from latentwalk.training.fit import fit
from latentwalk.walk import arithmetic, core

from conftest import one_line_error, run_cli, train_small


@pytest.fixture(scope="module")
def vae10(tmp_path_factory):
    """A VAE with z = 10 trained 3 epochs on MNIST."""
    return fit(tmp_path_factory.mktemp("arithmetic") / "vae10", ModelConfig(latent_dim=10), DataConfig("mnist"),
               TrainConfig(epochs=3, device="cpu"), log=lambda s: None)


def test_vectors_are_differences_of_means():
    codes = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 6.0]])
    labels = np.array([3, 3, 8, 8])
    np.testing.assert_allclose(arithmetic.label_vector(codes, labels, 3, 8), [-1.0, 5.0])
    values = np.array([0.1, 0.2, 0.3, 0.4])                   # quartiles: the first and the last code
    np.testing.assert_allclose(arithmetic.property_vector(codes, values), [0.0, 6.0])
    moved = arithmetic.along(codes[:2], np.array([1.0, 1.0]), [-1.0, 0.0, 2.0])
    assert moved.shape == (2, 3, 2)
    np.testing.assert_allclose(moved[1], [[1.0, -1.0], [2.0, 0.0], [4.0, 2.0]])


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_analogy_corners_sit_at_their_grid_positions(method):
    a, b, c = np.random.default_rng(0).standard_normal((3, 6))
    grid = arithmetic.analogy(a, b, c, 5, method)
    assert grid.shape == (5, 5, 6)
    np.testing.assert_allclose(grid[0, 0], a, atol=1e-12)
    np.testing.assert_allclose(grid[0, -1], b, atol=1e-12)
    np.testing.assert_allclose(grid[-1, 0], c, atol=1e-12)
    np.testing.assert_allclose(grid[-1, -1], b + c - a, atol=1e-12)
    if method == "lerp":                                       # bilinear: the centre is the mean of the corners
        np.testing.assert_allclose(grid[2, 2], (a + b + c + (b + c - a)) / 4, atol=1e-12)


def test_properties_measure_ink_and_slant():
    img = np.zeros((3, 1, 28, 28), np.float32)
    for r in range(4, 24):
        img[0, 0, r, 14] = 1.0                                 # upright stroke
        img[1, 0, r, 27 - r] = 1.0                             # "/": top to the right
        img[2, 0, r, 13:16] = 1.0                              # upright, three times the ink
    np.testing.assert_allclose(attributes.slant(img), [0.0, 1.0, 0.0], atol=1e-9)
    ink = attributes.thickness(img)
    assert ink[2] == pytest.approx(3 * ink[0]) and ink[0] == pytest.approx(20 / 784)
    assert attributes.slant(img[:, :, ::-1].copy())[1] == pytest.approx(-1.0)     # flipped upside down: "\\"


@pytest.mark.slow
def test_vectors_do_what_they_are_named_for(vae10, digit_net):
    model = checkpoint.load(vae10)
    train = datasets.load("mnist", "train")
    images, labels = checkpoint.test_data(vae10)
    # thickness: a positive scale adds ink to the decoded digits, a negative one takes it away
    digits = images[:200]
    thick = attributes.vector(model, "thickness", *train)
    moved = arithmetic.along(checkpoint.load(vae10).encode(digits).double().numpy(), thick, [-1.0, 0.0, 1.0])
    ink = attributes.thickness(core.decode(model, moved.reshape(-1, 10))).reshape(200, 3)
    assert ink[:, 2].mean() > 1.2 * ink[:, 1].mean() > 1.2 * 1.2 * ink[:, 0].mean()
    assert np.mean(ink[:, 2] > ink[:, 1]) > 0.9
    # 3to8: the classifier's belief in an 8 rises for most 3s
    threes = images[labels == 3][:100]
    v = attributes.vector(model, "3to8", *train)
    moved = arithmetic.along(model.encode(threes).double().numpy(), v, [0.0, 1.0])
    p8 = classifier.log_probabilities(digit_net, core.decode(model, moved.reshape(-1, 10)))[:, 8].exp().reshape(100, 2)
    assert np.mean((p8[:, 1] > p8[:, 0]).numpy()) > 0.8 and p8[:, 1].mean() > 0.3


@pytest.mark.slow
def test_the_fourth_corner_decodes_b_plus_c_minus_a(capsys, vae10, digit_net, tmp_path):
    code, out, err = run_cli(capsys, "analogy", vae10, "--corners", "3,1,2", "--size", "4", "--out", tmp_path)
    assert code == 0, err
    assert out.splitlines() == [f"wrote {tmp_path / f}" for f in ("analogy.png", "analogy.csv", "analogy.json")]
    model = checkpoint.load(vae10)
    a, b, c = model.encode(checkpoint.test_data(vae10)[0][[3, 1, 2]]).double().numpy()
    table = json.loads((tmp_path / "analogy.json").read_text())
    last = [k for k, (r, col) in enumerate(zip(table["row"], table["col"])) if (r, col) == (3, 3)][0]
    want = core.walk(model, (b + c - a)[None], scores.scorers(digit_net)).scores
    assert table["norm"][last] == pytest.approx(float(np.linalg.norm(b + c - a)))
    for k in ("sharpness", "confidence", "entropy"):                # the same image, seen by both scorers
        assert table[k][last] == pytest.approx(float(want[k][0]), rel=1e-4)
    assert table["digit"][last] == int(want["digit"][0])


@pytest.mark.slow
def test_arithmetic_command_prints_and_writes(capsys, vae10, tmp_path):
    code, out, err = run_cli(capsys, "arithmetic", vae10, "--vector", "thickness", "--n", "4", "--steps", "5",
                             "--out", tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:3] == [f"wrote {tmp_path / f}" for f in ("arithmetic_thickness.png", "arithmetic_thickness.csv",
                                                          "arithmetic_thickness.json")]
    values = [float(v) for v in lines[3].split(": ")[1].split()]
    assert lines[3].startswith("mean thickness of the decoded digits, scale -2.0 … +2.0") and len(values) == 5
    assert values == sorted(values)                           # more ink at every step up
    table = json.loads((tmp_path / "arithmetic_thickness.json").read_text())
    assert len(table["scale"]) == 20 and {"thickness", "slant", "digit", "confidence"} <= set(table)


@pytest.fixture(scope="module")
def low_digits(tmp_path_factory, mnist_train):
    """A run on digits 0-4 only."""
    images, labels = mnist_train
    keep = (labels < 5).nonzero()[:, 0][:1500]
    path = tmp_path_factory.mktemp("low") / "low.npz"
    np.savez(path, x=images[keep, 0].numpy(), y=labels[keep].numpy())
    return train_small(path.parent / "run", path, epochs=1)


@pytest.mark.parametrize("argv, message", [
    (["arithmetic", "--vector", "3to8"], "the data has no digit 8: it holds 0, 1, 2, 3, 4"),
    (["arithmetic", "--vector", "3to3"], "a vector from 3 to 3 is zero"),
    (["arithmetic", "--vector", "width"], "unknown vector 'width': use ATOB with two digits (e.g. 3to8), thickness or slant"),
    (["arithmetic", "--vector", "slant", "--max-scale", "nan"], "--max-scale must be a finite number > 0, got nan"),
    (["arithmetic", "--vector", "slant", "--max-scale", "inf"], "--max-scale must be a finite number > 0, got inf"),
    (["arithmetic", "--vector", "slant", "--steps", "1"], "--steps must be an integer in 2..64, got 1"),
    (["analogy", "--corners", "1,2"], "--corners takes three test image indices"),
    (["analogy", "--method", "nlerp"], "--method must be lerp or slerp, got 'nlerp'"),
])
def test_impossible_requests_are_one_line(capsys, low_digits, argv, message):
    assert message in one_line_error(capsys, argv[0], low_digits, *argv[1:])
