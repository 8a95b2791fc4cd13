"""Models: the AE and the VAE (MLP or convolutional), their configuration and their loss, written once; and
outside models (your own, pythae's) behind the same interface."""

from .autoencoder import AE, VAE, AutoEncoder, ModelConfig, build
from .external import External

Model = AutoEncoder | External      # what the walks, the measures, the figures and the explorer take

__all__ = ["AE", "VAE", "AutoEncoder", "External", "Model", "ModelConfig", "build"]
