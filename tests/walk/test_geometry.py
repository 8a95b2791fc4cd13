import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import integrate, stats

from latentwalk.walk import geometry


def test_ball_volumes_of_the_spec():
    v = geometry.ball_volume(np.arange(1, 6))
    np.testing.assert_allclose(v, [2, math.pi, 4 * math.pi / 3, math.pi ** 2 / 2, 8 * math.pi ** 2 / 15], rtol=1e-12)
    assert geometry.ball_volume(5) == pytest.approx(5.2638, abs=1e-4)
    volumes = geometry.ball_volume(np.arange(1, 60))
    assert np.argmax(volumes) + 1 == 5                        # the peak is at n = 5, then it falls
    assert np.all(np.diff(volumes[4:]) < 0) and volumes[-1] < 1e-10


def test_log_ball_volume_is_exact_far_out():
    # log V_n = (n/2) log pi - log((n/2)!), with n = 10,000: (n/2)! by exact integer arithmetic
    n = 10_000
    exact = n / 2 * math.log(math.pi) - math.log(math.factorial(n // 2))
    assert geometry.log_ball_volume(n) == pytest.approx(exact, rel=1e-14)
    assert geometry.ball_volume(n) == 0.0 and np.isfinite(geometry.log_ball_volume(n))


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=2000))
def test_chi_mean_matches_scipy(d):
    assert geometry.chi_mean(d) == pytest.approx(stats.chi(d).mean(), rel=1e-9)
    if d >= 20:
        assert geometry.chi_mean(d) == pytest.approx(math.sqrt(d - 0.5), rel=1e-3)


def test_chi_std_tends_to_one_over_root_two():
    assert geometry.chi_std(10_000) == pytest.approx(1 / math.sqrt(2), abs=1e-3)


@pytest.mark.parametrize("d", [1, 2, 10, 500])
def test_chi_pdf_is_a_density_matching_samples(d):
    area, _ = integrate.quad(lambda r: geometry.chi_pdf(r, d), 0, math.sqrt(d) + 20, points=[math.sqrt(d)])
    assert area == pytest.approx(1.0, abs=1e-8)
    norms = np.linalg.norm(np.random.default_rng(0).standard_normal((20_000, d)), axis=1)
    assert norms.mean() == pytest.approx(geometry.chi_mean(d), rel=0.01)
    np.testing.assert_allclose(geometry.chi_pdf(np.array([0.5, 2.0]), d), stats.chi(d).pdf([0.5, 2.0]), rtol=1e-9)


def test_prior_logpdf():
    z = np.array([[0.0, 0.0], [1.0, -2.0]])
    np.testing.assert_allclose(geometry.prior_logpdf(z), stats.multivariate_normal(np.zeros(2)).logpdf(z))


def test_shell_radius_is_where_the_norms_concentrate():
    assert geometry.shell_radius(500) == pytest.approx(math.sqrt(500))
    assert geometry.chi_mean(500) == pytest.approx(geometry.shell_radius(500), rel=1e-3)
