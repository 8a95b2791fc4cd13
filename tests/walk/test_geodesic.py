"""Geodesics under the decoder's metric: shorter than lerp and slerp where the decoder bends, exact endpoints,
the straight line under a linear decoder, and the magnification factor against autograd's Jacobian."""

import json

import numpy as np
import pytest
import torch

from latentwalk.measure import curves, ppl
from latentwalk.run import checkpoint
from latentwalk.run.config import DataConfig, TrainConfig
from latentwalk.models import ModelConfig
from latentwalk.training.fit import fit
from latentwalk.walk import core, geodesic

from conftest import one_line_error, run_cli


@pytest.fixture(scope="module")
def vae2(tmp_path_factory):
    """A 2-D VAE trained 2 epochs on MNIST: its decoder turns sharply between digit regions."""
    return fit(tmp_path_factory.mktemp("geodesic") / "vae2", ModelConfig(latent_dim=2), DataConfig("mnist"),
               TrainConfig(epochs=2, device="cpu"), log=lambda s: None)


@pytest.fixture(scope="module")
def numbers(vae2, digit_net, mnist_train):
    """The path numbers of every method between the codes of 20 pairs of test images."""
    model = checkpoint.load(vae2)
    ends = core.endpoints(model, "test", 20, 0, checkpoint.test_data(vae2)[0])
    return curves.numbers(model, digit_net, core.curves(model, core.METHODS, ends))


@pytest.mark.slow
def test_geodesics_have_less_energy_than_lerp_and_slerp(numbers):
    geo, lerp, slerp = (numbers[m]["energy"] for m in ("geodesic", "lerp", "slerp"))
    assert np.all(geo <= lerp)                                   # it starts at lerp and keeps its best
    assert np.mean(geo < 0.95 * lerp) >= 0.6                     # at least 5 % lower on most pairs
    assert np.mean(geo < slerp) >= 0.8
    assert np.all(numbers["geodesic"]["length"] <= numbers["lerp"]["length"] * 1.02)
    for m, row in numbers.items():
        assert set(row) == set(curves.NUMBERS) and all(len(v) == 20 and np.isfinite(v).all() for v in row.values())
        assert np.all(row["largest_step"] * (curves.DENSE - 1) >= row["length"] * 0.999)    # max >= mean step


@pytest.mark.slow
def test_endpoints_are_exact_and_the_path_is_read_between_nodes(vae2):
    model = checkpoint.load(vae2)
    ends = np.array([[[0.3, -1.2], [1.7, 0.4]], [[-2.0, 0.5], [0.1, 1.9]]])
    path = core.curves(model, ["geodesic"], ends)["geodesic"].evenly(11)
    assert path.shape == (2, 11, 2)
    assert np.array_equal(path[:, 0], ends[:, 0]) and np.array_equal(path[:, -1], ends[:, 1])
    nodes = np.arange(12, dtype=float).reshape(1, 3, 4)           # three nodes, 4-D
    got = geodesic.at(nodes, np.array([[0.0, 0.25, 0.5, 1.0]]))
    np.testing.assert_allclose(got[0], [nodes[0, 0], (nodes[0, 0] + nodes[0, 1]) / 2, nodes[0, 1], nodes[0, 2]])


def test_a_linear_decoder_gives_the_straight_line():
    torch.manual_seed(0)
    linear = torch.nn.Linear(3, 50)
    for p in linear.parameters():
        p.requires_grad_(False)
    a, b = np.array([1.0, -2.0, 0.5]), np.array([-1.5, 1.0, 2.0])
    line = a + np.linspace(0, 1, 9)[:, None] * (b - a)
    bent = line + np.random.default_rng(1).normal(0, 0.5, line.shape) * np.sin(np.linspace(0, np.pi, 9))[:, None]
    out = geodesic.solve(linear, bent[None], iterations=200, tol=1e-9)[0]
    assert np.abs(bent - line).max() > 0.3                        # it did start off the line
    np.testing.assert_allclose(out, line, atol=1e-3)


@pytest.mark.slow
def test_magnification_is_the_volume_of_the_jacobian(vae2):
    model = checkpoint.load(vae2)
    z = np.random.default_rng(2).standard_normal((3, 2))
    for k in range(3):
        jac = torch.autograd.functional.jacobian(lambda v: model.decoder(v[None]).sigmoid().flatten(),
                                                 torch.tensor(z[k], dtype=torch.float32)).double()
        want = torch.linalg.det(jac.T @ jac).sqrt().item()
        assert geodesic.magnification(model, z)[k] == pytest.approx(want, rel=1e-3)


@pytest.mark.slow
def test_path_length_of_geodesics(vae2, digit_net):
    model = checkpoint.load(vae2)
    geo = ppl.path_length(model, digit_net, "geodesic", 20)
    assert geo > 0 and np.isfinite(geo)


@pytest.mark.slow
def test_interpolate_command_draws_and_measures_geodesics(capsys, vae2, tmp_path):
    code, out, err = run_cli(capsys, "interpolate", vae2, "--method", "lerp,geodesic", "--from", "test",
                             "--pairs", "3", "--out", tmp_path)
    assert code == 0, err
    for name in ("interpolate.png", "interpolate_paths.csv", "interpolate_plane.png"):
        assert f"wrote {tmp_path / name}" in out and (tmp_path / name).stat().st_size > 0
    lines = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in out.splitlines()[-2:]}
    assert set(lines) == {"lerp", "geodesic"} and lines["geodesic"][1] <= lines["lerp"][1]     # energy
    table = json.loads((tmp_path / "interpolate_paths.json").read_text())
    assert table["pair"] == [0, 1, 2] and len(table["lerp_energy"]) == 3
    assert all(g <= e for g, e in zip(table["geodesic_energy"], table["lerp_energy"]))
    assert np.mean(table["geodesic_energy"]) == pytest.approx(lines["geodesic"][1], abs=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("argv, message", [
    (["--method", "geodesic", "--steps", "1"], "--steps must be an integer in 2..64, got 1"),
    (["--method", "geodesic,bezier"], "unknown method bezier: use lerp, slerp, nlerp, geodesic"),
])
def test_impossible_geodesics_are_refused(capsys, vae2, argv, message):
    assert message in one_line_error(capsys, "interpolate", vae2, *argv)


def test_a_solve_no_longer_wanted_stops_between_steps():
    """The explorer gives up the geodesic of a pick a newer one replaced: the solve checks before each step."""
    decode = lambda z: torch.tanh(z @ torch.ones(2, 3))                   # noqa: E731
    start = np.stack([np.linspace([-1.0, 0.0], [1.0, 0.5], 6)])
    steps = []
    with geodesic.unless_unwanted(lambda: steps.append(1) or len(steps) > 3):
        with pytest.raises(geodesic.Stopped):
            geodesic.solve(decode, start, iterations=100)
    assert len(steps) == 4                                               # three steps made, stopped at the fourth
    assert geodesic.solve(decode, start, iterations=5).shape == start.shape      # outside the block: solved


def test_a_solve_past_its_time_is_refused_after_one_step():
    """A decoder this slow (1.3 s a step) would take up to 500 x 1.3 s: refused after its first step."""
    import time

    from latentwalk.errors import ConfigError

    def slow(z):
        time.sleep(1.3)
        return torch.tanh(z @ torch.ones(2, 3))

    start = np.stack([np.linspace([-1.0, 0.0], [1.0, 0.5], 6)])
    with pytest.raises(ConfigError, match=r"1 geodesic\(s\) would take up to 1[01] min here .* ask for fewer pairs"):
        geodesic.solve(slow, start)
