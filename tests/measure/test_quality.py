"""Sample measures on the shipped network's features: they agree with references and move the right way."""

import contextlib
import io
import warnings

import numpy as np
import prdc
import pytest
import scipy.linalg
import torch
from torch.nn import functional as F

from latentwalk.data import datasets
from latentwalk.measure import classifier, quality

N = 2000


@pytest.fixture(scope="module")
def test_images():
    return datasets.load("mnist", "test")


@pytest.fixture(scope="module")
def reference(digit_net, test_images):
    return quality.Reference.of(classifier.features(digit_net, test_images[0][:N]))


def scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():            # dead ReLU units make s1 @ s2 singular: sqrtm says so, and copes
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


def measures(digit_net, reference, images) -> dict:
    f = classifier.features(digit_net, images)
    return quality.against(reference, f, digit_net.fc2(f).argmax(1).numpy())


def test_frechet_distance_agrees_with_scipy_and_the_closed_form(digit_net, reference, mnist_train):
    fake = classifier.features(digit_net, mnist_train[0][:N])
    ours = quality.frechet_distance(reference.features, fake)
    assert ours == pytest.approx(scipy_frechet(reference.features.numpy(), fake.numpy()), rel=1e-6)
    # two diagonal Gaussians: |m1 - m2|^2 + sum (s1 - s2)^2
    rng = np.random.default_rng(0)
    m1, m2, s1, s2 = np.array([0, 1, 2, 0.]), np.array([1, 1, 0, 0.5]), np.array([1, 2, .5, 1]), np.array([2, 1, .5, 3])
    a, b = m1 + s1 * rng.standard_normal((400_000, 4)), m2 + s2 * rng.standard_normal((400_000, 4))
    exact = ((m1 - m2) ** 2).sum() + ((s1 - s2) ** 2).sum()
    assert quality.frechet_distance(a, b) == pytest.approx(exact, rel=0.01)
    assert quality.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)


def test_precision_recall_density_coverage_are_prdcs(reference, digit_net, mnist_train):
    fake = classifier.features(digit_net, mnist_train[0][N:2 * N]).numpy()
    ours = quality.precision_recall_density_coverage(reference, fake)
    real = reference.features.numpy()
    with contextlib.redirect_stdout(io.StringIO()):
        k3, k5 = prdc.compute_prdc(real, fake, 3), prdc.compute_prdc(real, fake, 5)
    assert ours == pytest.approx({"precision": k3["precision"], "recall": k3["recall"],
                                  "density": k5["density"], "coverage": k5["coverage"]}, abs=1e-9)


def test_real_against_real_is_the_ceiling(digit_net, reference, mnist_train):
    a = measures(digit_net, reference, mnist_train[0][:N])
    b = measures(digit_net, reference, mnist_train[0][N:2 * N])
    for m in (a, b):
        assert m["frechet_distance"] < 60 and m["class_entropy"] > 2.28 and m["rarest_class"] > 0.07
    for key in ("precision", "recall", "coverage"):
        assert 0.75 < a[key] < 1 and a[key] == pytest.approx(b[key], abs=0.05)       # not 1, even for real data


@pytest.mark.slow
def test_distance_rises_with_blur_and_noise(digit_net, reference, test_images):
    images = test_images[0][N:2 * N].float() / 255
    def blurred(sigma):
        k = torch.exp(-torch.arange(-3, 4.0) ** 2 / (2 * sigma ** 2))
        k = (k[:, None] * k[None, :] / k.sum() ** 2).view(1, 1, 7, 7)
        return F.conv2d(images, k, padding=3)
    noised = [(images + s * torch.randn(images.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
              for s in (0.0, 0.2, 0.4, 0.8)]
    blur = [measures(digit_net, reference, blurred(s))["frechet_distance"] for s in (0.5, 1.0, 1.5, 2.5)]
    noise = [measures(digit_net, reference, x)["frechet_distance"] for x in noised]
    assert blur == sorted(blur) and blur[-1] > 5 * blur[0]
    assert noise == sorted(noise) and noise[-1] > 5 * noise[0]


def test_a_sampler_of_one_class_has_low_recall_and_coverage(digit_net, reference, test_images):
    images, labels = test_images
    ones = images[N:][labels[N:] == 1][:1000]
    m = measures(digit_net, reference, ones)
    assert m["recall"] < 0.2 and m["coverage"] < 0.2 and m["precision"] > 0.8     # sharp, but one digit
    assert m["rarest_class"] == 0 and m["class_entropy"] < 0.2
    assert m["class_histogram"][1] > 0.95


def test_class_coverage_of_an_even_histogram():
    c = quality.class_coverage(np.repeat(np.arange(10), 7))
    assert c["class_histogram"] == [0.1] * 10 and c["rarest_class"] == 0.1
    assert c["class_entropy"] == pytest.approx(np.log(10))
