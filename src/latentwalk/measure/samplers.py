"""Where generated latent codes come from: three samplers, each drawing (n, d) codes for the decoder.

    prior       z ~ N(0, I), what a VAE is trained to accept and an AE never is
    gmm         ex-post density estimation (Ghosh et al. 2020): a Gaussian mixture (scikit-learn, 10
                components) fitted once to the codes of the training set and kept in the run folder
    posterior   the aggregate posterior: codes of random training images, drawn from their posteriors (for an
                AE, the codes themselves): the upper reference, what a perfect density estimate would give

The mixture is fitted on the active dimensions only (Cov_x(E_q[z_j]) > 0.01, Burda et al. 2016): the others
carry no information, and a VAE's posterior there is its prior, so they are drawn from N(0, 1). Up to
FULL_LIMIT active dimensions the covariances are full, beyond that diagonal (a full fit costs about 8 s per
EM iteration at d = 500, measured). It is stored as safetensors (no pickle), with the weights file's SHA-256
and fitted again when the model has changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from sklearn.mixture import GaussianMixture

from .. import atomic
from ..errors import RunError, require
from ..models import Model
from ..models.autoencoder import codes
from ..run import checkpoint
from .evaluate import active_dims

SAMPLERS = ("prior", "gmm", "posterior")
GMM_FILE = "gmm.safetensors"
COMPONENTS = 10
FULL_LIMIT = 64


@dataclass(frozen=True)
class Mixture:
    dims: np.ndarray             # (a,) the active dimensions it models
    weights: np.ndarray          # (k,)
    means: np.ndarray            # (k, a)
    covariances: np.ndarray      # (k, a, a) full, or (k, a) diagonal
    fit_seconds: float
    model_sha256: str            # of the weights it was fitted to

    @property
    def covariance_type(self) -> str:
        return "full" if self.covariances.ndim == 3 else "diag"

    def sample(self, n: int, d: int, seed: int) -> np.ndarray:
        """(n, d) codes: the mixture on its dimensions, N(0, 1) on the others, in a random order."""
        gm = GaussianMixture(len(self.weights), covariance_type=self.covariance_type, random_state=seed)
        gm.weights_, gm.means_, gm.covariances_ = self.weights, self.means, self.covariances
        drawn, _ = gm.sample(n)
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, d))
        z[:, self.dims] = drawn[rng.permutation(n)]
        return z


def fit_mixture(model: Model, train_images: torch.Tensor, model_sha256: str = "", seed: int = 0) -> Mixture:
    """Fit the mixture to the posterior means of the training images (see the module's docstring)."""
    mu = codes(model, train_images)[0].double()
    dims = active_dims(mu).numpy()
    if len(dims) == 0:
        dims = np.array([int(mu.var(0).argmax())])
    mu = mu.numpy()
    start = time.perf_counter()
    gm = GaussianMixture(COMPONENTS, covariance_type="full" if len(dims) <= FULL_LIMIT else "diag",
                         random_state=seed, reg_covar=1e-6).fit(mu[:, dims])
    return Mixture(dims, gm.weights_, gm.means_, gm.covariances_, time.perf_counter() - start, model_sha256)


def save_mixture(run: Path, mixture: Mixture) -> None:
    tensors = {"dims": torch.from_numpy(mixture.dims.astype(np.int64)), "weights": torch.from_numpy(mixture.weights),
               "means": torch.from_numpy(mixture.means), "covariances": torch.from_numpy(mixture.covariances)}
    with atomic.atomic_path(checkpoint.run_file(run, GMM_FILE)) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, tmp,
                  metadata={"fit_seconds": f"{mixture.fit_seconds:.3f}", "model_sha256": mixture.model_sha256})


def load_mixture(run: Path) -> Mixture | None:
    """The stored mixture, or None when there is none; a damaged file is a one-line error."""
    path = checkpoint.run_file(run, GMM_FILE)
    if not path.is_file():
        return None
    try:
        with safe_open(path, framework="np") as f:
            meta = f.metadata() or {}
            t = {k: f.get_tensor(k) for k in ("dims", "weights", "means", "covariances")}
        return Mixture(t["dims"], t["weights"], t["means"], t["covariances"], float(meta["fit_seconds"]),
                       meta["model_sha256"])
    except (SafetensorError, OSError, KeyError, ValueError) as e:
        raise RunError(f"{path}: damaged ({e}); delete it and it is fitted again") from None


def mixture(run: Path | None, model: Model, train_images: torch.Tensor, log=print) -> Mixture:
    """The run's mixture: the stored one if it was fitted to the weights `model` was loaded from (its
    `weights_sha256`), else fitted now, and stored while the run's weights are still those. An outside model
    (`run` None) has no folder of ours to keep it in: it is fitted each time."""
    sha = model.weights_sha256 if run is not None else ""
    stored = load_mixture(run) if run is not None else None
    if stored is not None and stored.model_sha256 == sha:
        return stored
    log(f"fitting a {COMPONENTS}-component Gaussian mixture to the codes of {len(train_images):,} training images")
    fitted = fit_mixture(model, train_images, sha)
    kept = run is not None and checkpoint.weights_sha256(run) == sha
    if kept:
        save_mixture(run, fitted)
    where = f"; stored in {run / GMM_FILE}" if kept else \
        "; not stored: the run's weights changed since they were loaded" if run is not None else ""
    log(f"fitted on {len(fitted.dims)} active dimensions ({fitted.covariance_type} covariances) in "
        f"{fitted.fit_seconds:.1f} s{where}")
    return fitted


def draw(sampler: str, model: Model, n: int, seed: int, train_images: torch.Tensor | None = None,
         gmm: Mixture | None = None) -> np.ndarray:
    """(n, d) latent codes from `sampler`."""
    require(sampler in SAMPLERS, f"unknown sampler {sampler!r}: use {', '.join(SAMPLERS)}")
    d = model.latent_dim
    if sampler == "prior":
        return np.random.default_rng(seed).standard_normal((n, d))
    if sampler == "gmm":
        return gmm.sample(n, d, seed)
    rng = np.random.default_rng(seed)
    mu, logvar = codes(model, train_images[rng.choice(len(train_images), n, replace=n > len(train_images))])
    z = mu.double().numpy()
    if logvar is not None:
        z = z + np.exp(0.5 * logvar.double().numpy()) * rng.standard_normal(z.shape)
    return z
