import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from latentwalk.walk import paths
from latentwalk.errors import ConfigError

finite = st.floats(min_value=-50, max_value=50, allow_nan=False, allow_infinity=False)


def vectors(d):
    return arrays(np.float64, d, elements=finite)


def test_grid_layout():
    g = paths.grid(3, (-1, 1))
    assert g.shape == (9, 2)
    np.testing.assert_array_equal(g[0], [-1, 1])     # top left
    np.testing.assert_array_equal(g[2], [1, 1])      # top right: z1 grows to the right
    np.testing.assert_array_equal(g[8], [1, -1])     # bottom right: z2 grows upwards
    with pytest.raises(ConfigError, match="min < max"):
        paths.grid(3, (2, 2))
    with pytest.raises(ConfigError, match="n must be an integer >= 1"):
        paths.grid(0)


def test_gaussian_grid_is_the_prior_quantiles():
    g = paths.gaussian_grid(4)
    axis = np.unique(g[:, 0])
    np.testing.assert_allclose(axis, [-1.1503494, -0.3186394, 0.3186394, 1.1503494], atol=1e-6)


def test_spiral_is_the_posts_curve():
    s = paths.spiral(301)
    t = np.linspace(0, 3 * np.pi, 301)
    np.testing.assert_allclose(s[:, 0], (0.2 * t - 2) * np.sin(t), atol=1e-12)
    np.testing.assert_allclose(s[:, 1], (0.2 * t - 2) * np.cos(t), atol=1e-12)
    assert np.abs(s).max() <= 2.0 + 1e-12
    with pytest.raises(ConfigError, match="steps must be an integer >= 1"):
        paths.spiral(0)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 12).flatmap(lambda n: st.tuples(
    st.floats(0.1, 100), arrays(np.float64, n - 2, elements=st.floats(0.01, np.pi - 0.01)),
    st.floats(0.0, 2 * np.pi - 1e-6))))
def test_hyperspherical_round_trip_from_angles(args):
    r, inner, last = args
    angles = np.concatenate([inner, [last]])[None]
    x = paths.to_cartesian(r, angles)
    r2, angles2 = paths.to_hyperspherical(x)
    np.testing.assert_allclose(r2, [r], rtol=1e-9)
    np.testing.assert_allclose(angles2, angles, atol=1e-7)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 12).flatmap(lambda n: arrays(np.float64, (3, n), elements=finite)))
def test_hyperspherical_round_trip_from_points(x):
    r, angles = paths.to_hyperspherical(x)
    np.testing.assert_allclose(r, np.linalg.norm(x, axis=1), rtol=1e-9, atol=1e-12)
    assert (angles[:, :-1] >= 0).all() and (angles[:, :-1] <= np.pi).all()
    assert (angles[:, -1] >= 0).all() and (angles[:, -1] < 2 * np.pi).all()
    np.testing.assert_allclose(paths.to_cartesian(r, angles), x, atol=1e-9 * (1 + np.abs(x).max()))


def test_sphere_walk_stays_on_the_shell():
    w = paths.sphere_walk(10, steps=500, loops=8)
    assert w.shape == (500, 10)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), np.sqrt(10))
    np.testing.assert_allclose(w[0], [np.sqrt(10)] + [0] * 9, atol=1e-12)
    assert (np.ptp(w, axis=0) > 0.5).all()              # every coordinate moves
    with pytest.raises(ConfigError, match="d >= 2"):
        paths.sphere_walk(1)


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 64).flatmap(lambda d: st.tuples(vectors(d), vectors(d))), st.integers(2, 40))
def test_slerp_endpoints_and_norm(ab, steps):
    a, b = ab
    assume(np.linalg.norm(a) > 1e-3 and np.linalg.norm(b) > 1e-3)
    b = b / np.linalg.norm(b) * np.linalg.norm(a)        # same norm
    s = paths.slerp(a, b, steps)
    assert s.shape == (steps, a.size)
    np.testing.assert_array_equal(s[0], a)
    np.testing.assert_array_equal(s[-1], b)
    np.testing.assert_allclose(np.linalg.norm(s, axis=1), np.linalg.norm(a), rtol=1e-6)
    assert np.isfinite(s).all()


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 64).flatmap(lambda d: st.tuples(vectors(d), vectors(d))), st.integers(2, 30))
def test_lerp_and_nlerp(ab, steps):
    a, b = ab
    l = paths.lerp(a, b, steps)
    np.testing.assert_array_equal(l[0], a)
    np.testing.assert_allclose(l[-1], b, atol=1e-12)
    np.testing.assert_allclose(np.diff(l, axis=0), np.diff(l, axis=0)[:1].repeat(steps - 1, 0), atol=1e-9)
    n = paths.nlerp(a, b, steps)
    t = np.linspace(0, 1, steps)
    np.testing.assert_array_equal(n[[0, -1]], [a, b])
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), (1 - t) * np.linalg.norm(a) + t * np.linalg.norm(b),
                               rtol=1e-6, atol=1e-9)


def test_nearly_parallel_and_opposite_endpoints():
    a = np.array([3.0, 4.0, 0.0])
    s = paths.slerp(a, a * (1 + 1e-12), 5)
    assert np.isfinite(s).all() and np.allclose(s, a)
    o = paths.slerp(a, -a, 9)                             # opposite: a half circle, norm kept
    np.testing.assert_allclose(np.linalg.norm(o, axis=1), 5.0)
    np.testing.assert_array_equal(o[-1], -a)
    assert abs(o[4] @ a) < 1e-9                           # passes through a perpendicular direction
    n = paths.nlerp(a, -a, 9)
    assert np.isfinite(n).all()
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 5.0)


@pytest.mark.parametrize("d", [10, 100, 500, 2000])
def test_lerp_midpoint_of_orthogonal_shell_points(d):
    """Two orthogonal points on the sqrt(d) shell: lerp's midpoint sinks to sqrt(d/2), slerp's stays."""
    a = np.zeros(d)
    b = np.zeros(d)
    a[0], b[1] = np.sqrt(d), np.sqrt(d)
    assert np.linalg.norm(paths.lerp(a, b, 3)[1]) == pytest.approx(np.sqrt(d / 2))
    assert np.linalg.norm(paths.slerp(a, b, 3)[1]) == pytest.approx(np.sqrt(d))


def test_random_shell_points_in_500d():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 500))
    a, b = a / np.linalg.norm(a) * np.sqrt(500), b / np.linalg.norm(b) * np.sqrt(500)
    mid = np.linalg.norm(paths.lerp(a, b, 3)[1])
    assert mid == pytest.approx(15.8, abs=0.8) and np.linalg.norm(paths.slerp(a, b, 3)[1]) == pytest.approx(22.36, abs=0.01)


def test_traverse():
    t = paths.traverse(np.zeros(4), 2, np.linspace(-3, 3, 7))
    assert t.shape == (7, 4) and (t[:, [0, 1, 3]] == 0).all() and t[0, 2] == -3
    with pytest.raises(ConfigError, match="dim must be in 0..3"):
        paths.traverse(np.zeros(4), 4, [0])


def test_bad_endpoints():
    with pytest.raises(ConfigError, match="same length"):
        paths.lerp(np.zeros(3), np.zeros(4))
    with pytest.raises(ConfigError, match="finite"):
        paths.slerp(np.array([np.nan, 1.0]), np.ones(2))


def test_interpolations_at_given_times_match_their_steps():
    """`t=` gives the points of any times (the path length measure draws them at random) on the same curves."""
    a, b = np.random.default_rng(1).standard_normal((2, 6))
    t = np.linspace(0, 1, 9)
    for method in paths.INTERPOLATIONS.values():
        np.testing.assert_allclose(method(a, b, t=t[[2, 7, 4]]), method(a, b, 9)[[2, 7, 4]], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(paths.nlerp(a, -a, t=[0.25, 0.5]), axis=1), np.linalg.norm(a))
    with pytest.raises(ConfigError, match="t must hold finite numbers"):
        paths.slerp(a, b, t=[0.5, np.nan])
