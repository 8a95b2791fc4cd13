"""Models: the AE and the VAE (MLP or convolutional), their configuration and their loss, written once."""

from .autoencoder import AE, VAE, AutoEncoder, ModelConfig, build

__all__ = ["AE", "VAE", "AutoEncoder", "ModelConfig", "build"]
