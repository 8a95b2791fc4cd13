"""The walk core: the typed walk, its latent scores, scorers passed in, endpoints, interpolations, the plane."""

import numpy as np
import pytest
import torch

from latentwalk.errors import ConfigError
from latentwalk.models.autoencoder import codes, kl_per_dim
from latentwalk.run import checkpoint
from latentwalk.walk import core, geometry, paths

from conftest import train_small


@pytest.fixture(scope="module")
def vae(small_run):
    return checkpoint.load(small_run)                     # a VAE with z = 4


@pytest.fixture(scope="module")
def test_images(mnist_train):
    return mnist_train[0][:300]


def test_walk_decodes_scores_and_runs_scorers_in_order(vae):
    path = np.random.default_rng(0).standard_normal((7, 4))
    calls = []

    def brightness(images):
        calls.append(images.shape)
        return {"brightness": images.mean(axis=(1, 2, 3))}

    w = core.walk(vae, path, [brightness, lambda images: {"darkest": images.min(axis=(1, 2, 3))}])
    np.testing.assert_allclose(w.images, vae.decode(torch.tensor(path, dtype=torch.float32)).numpy(), atol=1e-6)
    assert list(w.scores) == ["norm", "prior_logpdf", "brightness", "darkest"] and calls == [(7, 1, 28, 28)]
    np.testing.assert_allclose(w.scores["norm"], np.linalg.norm(path, axis=1))
    np.testing.assert_allclose(w.scores["prior_logpdf"], geometry.prior_logpdf(path))
    np.testing.assert_allclose(w.scores["brightness"], w.images.mean(axis=(1, 2, 3)))


def test_prior_endpoints_are_seeded_on_the_shell_and_nested(vae):
    ends = core.endpoints(vae, "prior", 6, seed=3)
    assert ends.shape == (6, 2, 4)
    np.testing.assert_allclose(np.linalg.norm(ends, axis=-1), 2.0)
    np.testing.assert_array_equal(ends, core.endpoints(vae, "prior", 6, seed=3))
    assert not np.allclose(ends, core.endpoints(vae, "prior", 6, seed=4))
    # one pair of a seed is the first pair of many: the explorer's seed 0 shows the report's first pair
    np.testing.assert_array_equal(core.prior_pairs(4, 1, 3)[0], ends[0])


def test_test_endpoints_are_codes_of_test_images(vae, test_images):
    ends = core.endpoints(vae, "test", 5, seed=1, images=test_images)
    mu = codes(vae, test_images)[0].numpy()
    for a in ends.reshape(-1, 4):
        assert np.abs(mu - a).sum(1).min() < 1e-5        # every endpoint is the code of one of the images
    with pytest.raises(ConfigError, match="^origin must be prior or test"):
        core.endpoints(vae, "data", 1, 0)
    with pytest.raises(ConfigError, match="needs test images"):
        core.endpoints(vae, "test", 1, 0)


def test_interpolations_cut_one_batch_back_into_pairs(vae):
    ends = core.endpoints(vae, "prior", 3, seed=0)
    walks = core.interpolations(vae, core.curves(vae, ["slerp", "lerp", "slerp"], ends), 11)
    assert list(walks) == ["slerp", "lerp"] and all(len(ws) == 3 for ws in walks.values())
    for (a, b), w in zip(ends, walks["lerp"]):
        alone = core.walk(vae, paths.lerp(a, b, 11))
        np.testing.assert_array_equal(w.path, alone.path)
        np.testing.assert_allclose(w.images, alone.images, atol=1e-6)
        np.testing.assert_allclose(w.scores["norm"], alone.scores["norm"])
        assert w.scores["norm"][5] == pytest.approx(np.linalg.norm(a + b) / 2)    # t = 1/2 is the middle point
    np.testing.assert_allclose([w.scores["norm"] for w in walks["slerp"]], 2.0)


def test_ranked_dims_and_the_plane(vae, test_images, tmp_path, small_npz):
    mu, logvar = codes(vae, test_images)
    order, weights, name = core.ranked_dims(mu, logvar)
    kl = kl_per_dim(mu, logvar).numpy()
    assert name == "KL" and sorted(order) == [0, 1, 2, 3]
    np.testing.assert_allclose(weights, kl[order])
    assert np.all(np.diff(weights) <= 0) and weights[0] > weights[-1]
    assert core.plane(order) == sorted(order[:2])
    ae = checkpoint.load(train_small(tmp_path / "ae", small_npz, epochs=1, kind="ae", latent_dim=3))
    mu, logvar = codes(ae, test_images)
    order, weights, name = core.ranked_dims(mu, None)
    assert logvar is None and name == "variance"
    np.testing.assert_allclose(weights, mu.var(0, unbiased=False).numpy()[order], rtol=1e-6)


def test_checks_name_the_argument_and_its_range():
    with pytest.raises(ConfigError, match=r"unknown method cubic: use lerp, slerp, nlerp"):
        core.check_methods(["lerp", "cubic"])
    with pytest.raises(ConfigError, match=r"unknown method \(none\)"):
        core.check_methods([])
    with pytest.raises(ConfigError, match=r"^steps must be an integer in 2\.\.64, got 65"):
        core.check_steps(65, 2, 64)
    with pytest.raises(ConfigError, match=r"steps must be an integer in 2\.\.9, got True"):
        core.check_steps(True, 2, 9)
    core.check_steps(2, 2, 64)
