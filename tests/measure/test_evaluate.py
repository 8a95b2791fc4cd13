import math

import pytest
import torch

import latentwalk
from latentwalk.measure import evaluate
from latentwalk.errors import ConfigError

from conftest import train_small


@pytest.fixture(scope="module")
def model_and_images(small_run):
    images, _ = latentwalk.datasets.load("mnist", "test")
    return latentwalk.load(small_run), images[:200]


def test_iwae_is_a_tighter_bound_than_the_elbo(model_and_images):
    model, images = model_and_images
    elbo = evaluate.neg_elbo(model, images)["neg_elbo"]
    nll_1 = evaluate.nll_iwae(model, images, k=1)
    nll_10 = evaluate.nll_iwae(model, images, k=10)
    nll_500 = evaluate.nll_iwae(model, images, k=500)
    assert nll_500 < nll_10 < elbo
    assert nll_1 == pytest.approx(elbo, abs=5.0)        # k = 1 is the ELBO itself, up to sampling noise
    assert elbo - nll_500 > 0.1


def test_iwae_memory_is_bounded_by_chunks(model_and_images):
    model, images = model_and_images
    rows = []
    hook = model.decoder.register_forward_hook(lambda module, inputs, output: rows.append(len(inputs[0])))
    try:
        big = evaluate.nll_iwae(model, images[:20], k=300, max_rows=100_000)
        assert max(rows) == 20 * 300                                     # all samples of all images at once
        rows.clear()
        small = evaluate.nll_iwae(model, images[:20], k=300, max_rows=64)   # 3 images x 21 samples a chunk
    finally:
        hook.remove()
    assert max(rows) <= 64 and sum(rows) == 20 * 300
    assert small == pytest.approx(big, abs=0.5)


def test_kl_per_dim_and_active_units(model_and_images):
    model, images = model_and_images
    mu, logvar = evaluate.codes(model, images)
    per_dim = evaluate.kl_per_dim(mu, logvar)
    assert per_dim.shape == (4,) and (per_dim >= 0).all()
    assert per_dim.sum().item() == pytest.approx(evaluate.neg_elbo(model, images)["kl"], rel=1e-4)
    assert 1 <= evaluate.active_units(mu) <= 4
    assert evaluate.active_units(torch.zeros(50, 3)) == 0
    assert evaluate.active_units(torch.randn(500, 3)) == 3


def test_evaluate_report(model_and_images):
    model, images = model_and_images
    r = evaluate.evaluate(model, images, k=50)
    assert r["nll_iwae"] <= r["neg_elbo"] and r["k"] == 50 and r["images"] == 200
    assert math.isclose(r["neg_elbo"], r["recon"] + r["kl"], rel_tol=1e-6)
    assert len(r["kl_per_dim"]) == 4


def test_ae_has_no_iwae(tmp_path, small_npz):
    ae = latentwalk.load(train_small(tmp_path / "ae", small_npz, epochs=1, kind="ae"))
    images, _ = latentwalk.datasets.load("mnist", "test")
    r = evaluate.evaluate(ae, images[:50], k=10)
    assert r["nll_iwae"] is None and r["kl"] == 0
    with pytest.raises(ConfigError, match="needs a VAE"):
        evaluate.nll_iwae(ae, images[:5])
