"""`latentwalk measure` and the path length: on real short-trained models, with its one-line refusals."""

import json

import numpy as np
import pytest

from latentwalk.measure import classifier, ppl, samplers, stored
from latentwalk.models import ModelConfig
from latentwalk.run import checkpoint
from latentwalk.walk import core, paths
from latentwalk.run.config import DataConfig, TrainConfig
from latentwalk.training.fit import fit

from conftest import one_line_error, run_cli, train_small


@pytest.fixture(scope="module")
def ae16(tmp_path_factory):
    """An AE with z = 16 trained 3 epochs on MNIST: its codes spread far beyond N(0, I)."""
    return fit(tmp_path_factory.mktemp("measure") / "ae16", ModelConfig(kind="ae", latent_dim=16),
               DataConfig("mnist"), TrainConfig(epochs=3, device="cpu"), log=lambda s: None)


@pytest.mark.slow
def test_a_mixture_beats_the_prior_for_an_autoencoder(capsys, ae16):
    code, out, err = run_cli(capsys, "measure", ae16, "--sampler", "prior,gmm,posterior", "--n", "1000",
                             "--paths", "300", "--geodesic-paths", "20", "--json")
    assert code == 0, err
    rows = {r["sampler"]: r for r in map(json.loads, out.splitlines())}      # stdout holds JSON only
    assert list(rows) == ["real", "prior", "gmm", "posterior"]
    real, prior, gmm, posterior = rows.values()
    assert gmm["frechet_distance"] < prior["frechet_distance"] / 3 and gmm["recall"] > prior["recall"] + 0.2
    assert real["frechet_distance"] < gmm["frechet_distance"] and real["recall"] > gmm["recall"]
    assert posterior["coverage"] > prior["coverage"]
    for r in rows.values():
        assert r["n"] == 1000 and r["network"]["sha256"] and r["network"]["features"] == 128
        assert set(r) >= {"frechet_distance", "precision", "recall", "density", "coverage", "class_histogram"}
    assert set(gmm["ppl"]) == {"lerp", "slerp", "nlerp", "geodesic"} and all(v > 0 for v in gmm["ppl"].values())
    assert (gmm["ppl_paths"], gmm["ppl_geodesic_paths"]) == (300, 20)
    assert gmm["gmm_dims"] == 16 and gmm["gmm_covariance"] == "full"
    assert (ae16 / samplers.GMM_FILE).is_file() and "fitting" in err
    kept = stored.read(ae16)                                       # and kept in the run folder
    assert {s: r["frechet_distance"] for s, r in kept["samples"].items()} == \
        {s: r["frechet_distance"] for s, r in rows.items()}
    assert {m: v["ppl"] for m, v in kept["paths"].items()} == gmm["ppl"] and kept["paths"]["lerp"]["paths"] == 300
    assert kept["paths"]["geodesic"]["paths"] == 20


@pytest.mark.slow
def test_the_mixture_is_stored_and_refitted_after_training(ae16):
    model = checkpoint.load(ae16)
    stored = samplers.load_mixture(ae16)
    again = samplers.mixture(ae16, model, None, log=lambda s: pytest.fail("fitted again"))   # reused, not refitted
    np.testing.assert_array_equal(again.means, stored.means)
    z = stored.sample(500, 16, seed=1)
    assert z.shape == (500, 16) and np.array_equal(z, stored.sample(500, 16, seed=1))


def test_path_length_does_not_depend_on_epsilon(small_run, digit_net):
    model = checkpoint.load(small_run)
    raw3 = ppl.squared_steps(model, digit_net, "slerp", 1000, epsilon=1e-3)
    raw4 = ppl.squared_steps(model, digit_net, "slerp", 1000, epsilon=1e-4)
    assert np.median(raw3 / raw4) == pytest.approx(100, rel=0.05)      # the raw distance scales with eps^2
    a = ppl.path_length(model, digit_net, "slerp", 1000, epsilon=1e-3)
    b = ppl.path_length(model, digit_net, "slerp", 1000, epsilon=1e-4)
    assert a == pytest.approx(b, rel=0.05) and a > 0


def test_roughness_is_the_path_length_along_one_path(small_run, digit_net):
    model = checkpoint.load(small_run)
    a, b = np.random.default_rng(3).standard_normal((2, 4))
    t = np.linspace(0, 1, 51)
    local = ppl.local(model, digit_net, core.curves(model, ["slerp"], np.array([[a, b]]))["slerp"], t[None])[0]
    # the same quantity written out: features of the decodings at t and t + eps, unit-normalised
    f = [classifier.features(digit_net, model.decode(paths.slerp(a, b, t=t + s))) for s in (0, ppl.EPSILON)]
    f = [x / x.norm(dim=1, keepdim=True) for x in f]
    want = (f[1] - f[0]).square().sum(1).double().numpy() / ppl.EPSILON ** 2
    np.testing.assert_allclose(local, want, rtol=1e-3, atol=1e-3)
    assert local.shape == (51,) and local.min() >= 0 and local.max() > 0
    still = core.curves(model, ["lerp"], np.array([[a, a]]))["lerp"]
    # standing still: no change (to float rounding: the same image in another batch of 64 may differ in its last bit)
    assert ppl.local(model, digit_net, still, t[None]).max() < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("argv, message", [
    (["--sampler", "prior,flow"], "unknown sampler flow: use prior, gmm, posterior"),
    (["--n", "0"], "--n must be an integer >= 10, got 0"),
    (["--geodesic-paths", "5"], "--geodesic-paths must be an integer in 10..1,000, got 5"),
    (["--n", "20000"], "--n must be at most 10,000"),
])
def test_impossible_requests(capsys, ae16, argv, message):
    assert message in one_line_error(capsys, "measure", ae16, *argv)


def test_data_the_network_cannot_serve_is_refused(capsys, tmp_path, small_npz):
    rng = np.random.default_rng(0)
    noise = tmp_path / "noise.npz"                                 # labelled 28x28 images, but not digits
    np.savez(noise, x=rng.integers(0, 256, (300, 28, 28), dtype=np.uint8), y=rng.integers(0, 10, 300))
    err = one_line_error(capsys, "measure", train_small(tmp_path / "noise", noise, epochs=1))
    assert "does not serve this data set" in err
    plain = tmp_path / "plain.npz"                                 # digits without labels
    np.savez(plain, x=np.load(small_npz)["x"][:300])
    err = one_line_error(capsys, "measure", train_small(tmp_path / "plain", plain, epochs=1))
    assert "has no labels" in err
    err = one_line_error(capsys, "measure", fit(tmp_path / "big", ModelConfig(latent_dim=2, hidden=(32,)),
                                                DataConfig(str(small_npz), size=(32, 32)),
                                                TrainConfig(epochs=1, device="cpu"), log=lambda s: None))
    assert "reads 1x28x28 grey digits" in err and "1x32x32" in err
