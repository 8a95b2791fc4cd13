"""How close a set of generated images is to the real ones, on the features of the shipped digit classifier.

    frechet_distance   between Gaussians fitted to the two feature sets ("FID" on MNIST features): 0 for the
                       same distribution; torchmetrics' FrechetInceptionDistance, fed our features
    precision, recall  (Kynkäänniemi et al. 2019, k = 3): the share of generated samples inside the real
                       manifold, and of real samples inside the generated one
    density, coverage  (Naeem et al. 2020, k = 5): the same, robust to outliers (prdc's definitions)
    class_histogram    the classifier's verdicts on the generated images, its entropy (log 10 = 2.30 for all
                       ten digits alike) and the share of the rarest digit (0.1 when even, 0 when one is missing)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from sklearn.metrics import pairwise_distances
from torchmetrics.image.fid import FrechetInceptionDistance

PRECISION_K = 3
COVERAGE_K = 5


class _Given(nn.Module):
    """The 'feature extractor' torchmetrics is handed: the features are computed once, beforehand (prdc needs
    them too), so the metric receives them as they are."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def frechet_distance(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (n, k) and (m, k), in float64."""
    real, fake = torch.as_tensor(real, dtype=torch.float64), torch.as_tensor(fake, dtype=torch.float64)
    metric = FrechetInceptionDistance(feature=_Given(real.shape[1]))
    metric.update(real, real=True)
    metric.update(fake, real=False)
    return float(metric.compute())


def _distances(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distances between rows, float32 (scikit-learn's; prdc's helper asks joblib for 8 workers, which
    on a small machine only adds threads and warnings)."""
    return pairwise_distances(a, b, metric="euclidean")


def _kth(distances: np.ndarray, k: int) -> np.ndarray:
    """Each row's k-th smallest value: prdc's get_kth_value, by torch.topk instead of a full argpartition
    (the same values; 0.06 s against 1.8 s for 10,000 x 10,000, benchmarks/RESULTS.md)."""
    return torch.from_numpy(distances).topk(k, dim=1, largest=False).values[:, -1].numpy()


@dataclass(frozen=True)
class Reference:
    """The real side of every comparison: its features and the radius of each real sample's neighbourhood."""
    features: torch.Tensor           # (n, k) float32
    radii: dict[int, np.ndarray]     # k -> (n,) distance to the k-th nearest other real sample

    @staticmethod
    def of(features: torch.Tensor) -> Reference:
        distances = _distances(features.numpy())
        return Reference(features, {k: _kth(distances, k + 1) for k in (PRECISION_K, COVERAGE_K)})


def precision_recall_density_coverage(real: Reference, fake: np.ndarray) -> dict[str, float]:
    """Precision and recall with k = 3 neighbours, density and coverage with k = 5.

    prdc's four formulas written out here (and its k-th-neighbour function, by _kth): its own
    compute_prdc takes one k and recomputes the real-to-real distances on every call, so two calls per row
    took 7.7 s for 10,000 against 10,000 samples; with the real side computed once per run a row takes a
    third of that (tests check the numbers against compute_prdc)."""
    fake = np.asarray(fake, dtype=np.float32)
    fake_radii = _kth(_distances(fake), PRECISION_K + 1)
    d = _distances(real.features.numpy(), fake)                  # (real, fake)
    r3, r5 = real.radii[PRECISION_K][:, None], real.radii[COVERAGE_K]
    return {"precision": float((d < r3).any(0).mean()), "recall": float((d < fake_radii[None, :]).any(1).mean()),
            "density": float((d < r5[:, None]).sum(0).mean() / COVERAGE_K),
            "coverage": float((d.min(1) < r5).mean())}


def class_coverage(digits: np.ndarray, classes: int = 10) -> dict:
    """The histogram of predicted classes (shares), its entropy in nats, and the share of the rarest class."""
    hist = np.bincount(np.asarray(digits), minlength=classes)[:classes] / max(1, len(digits))
    nonzero = hist[hist > 0]
    return {"class_histogram": [round(float(h), 6) for h in hist],
            "class_entropy": float(-(nonzero * np.log(nonzero)).sum()), "rarest_class": float(hist.min())}


def against(real: Reference, fake: torch.Tensor, fake_digits: np.ndarray) -> dict:
    """Every measure of a generated feature set `fake` (with the classifier's digits) against `real`."""
    return {"frechet_distance": frechet_distance(real.features, fake),
            **precision_recall_density_coverage(real, fake.numpy()), **class_coverage(fake_digits)}
