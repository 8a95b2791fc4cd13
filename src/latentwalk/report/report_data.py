"""What the report shows, as one typed value: the demo builds a ReportData, the HTML page renders only that.

Every field is plain data: figures as encoded bytes in memory (nothing is read back from disk), tables as
typed rows. A figure or row that is absent leaves its part of the page out, so a report of any subset of
the demo's models renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Media:
    """One picture or video of the report, with its caption."""
    data: bytes
    mime: str                   # image/png or video/mp4
    caption: str


@dataclass(frozen=True)
class Stat:
    """Mean and standard deviation of a score over the pairs of an interpolation."""
    mean: float
    std: float

    @staticmethod
    def of(values: np.ndarray) -> Stat:
        values = np.asarray(values, dtype=np.float64)
        return Stat(float(values.mean()), float(values.std()))


@dataclass(frozen=True, kw_only=True)
class EvalRow:
    model: str                  # the run's name: ae2, vae2, …
    latent_dim: int
    epochs: int
    train_seconds: float
    neg_elbo: float
    nll_iwae: float | None      # None for an AE
    active_units: int
    precision: str = "float32"  # what training ran its products in: float32, bf16, or both in turn ("bf16, float32")


@dataclass(frozen=True, kw_only=True)
class MidpointRow:
    """The scores at t = 1/2 of one interpolation method, over the report's prior pairs of one model."""
    latent_dim: int
    method: str
    norm: Stat
    prior_logpdf: Stat
    confidence: Stat
    sharpness: Stat


@dataclass(frozen=True, kw_only=True)
class PriorRow:
    """How the classifier judges a model's decoded prior samples."""
    model: str                  # "AE z=2", "VAE z=2"
    confidence: float           # mean classifier confidence
    confident: float            # share judged a clear digit (confidence >= 0.9)


@dataclass(frozen=True, kw_only=True)
class SampleRow:
    """The sample measures of one model and sampler against the real test images (or the real row itself)."""
    model: str                  # "AE z=2", "VAE z=2", or "real" for training against test images
    sampler: str                # prior, gmm, posterior; "train" for the real row
    n: int
    frechet_distance: float
    precision: float
    recall: float
    density: float
    coverage: float
    class_histogram: list[float]
    class_entropy: float
    rarest_class: float


@dataclass(frozen=True, kw_only=True)
class PathRow:
    """The perceptual path length of one interpolation method at one latent size."""
    latent_dim: int
    method: str
    ppl: float
    paths: int                  # random prior paths behind it (fewer for geodesics: each is an optimisation)


@dataclass(frozen=True, kw_only=True)
class CurveRow:
    """One method's path numbers (measure/curves.py) at one latent size: means over the same pairs for every
    method, and the share of those pairs on which its energy is above the geodesic's."""
    latent_dim: int
    method: str
    length: float
    energy: float
    largest_step: float
    ppl: float
    midpoint: float
    above_geodesic: float       # share of pairs whose energy is above the geodesic's


@dataclass(frozen=True, kw_only=True)
class Network:
    """The digit classifier behind every confidence and measure of the report (measure/classifier.INFO)."""
    network: str
    sha256: str
    features: int
    test_accuracy: float


@dataclass(frozen=True, kw_only=True)
class ReportData:
    version: str
    digit_net: Network
    quick: bool
    epochs: int
    models: list[str]           # a sentence-ready description of each model trained, e.g. "an AE with z = 2"
    eval_images: int
    iwae_k: int
    pairs: int                  # prior pairs behind each interpolation row and the F11 bands
    prior_samples: int
    figures: dict[str, Media] = field(default_factory=dict)    # by id: F1 … F12, training, scatter, …
    evaluation: list[EvalRow] = field(default_factory=list)
    midpoints: list[MidpointRow] = field(default_factory=list)
    prior: list[PriorRow] = field(default_factory=list)
    sample_n: int = 0           # generated (and real) images behind each SampleRow
    samples: list[SampleRow] = field(default_factory=list)
    paths: list[PathRow] = field(default_factory=list)
    curve_pairs: int = 0        # test-image pairs behind each CurveRow
    curves: list[CurveRow] = field(default_factory=list)
