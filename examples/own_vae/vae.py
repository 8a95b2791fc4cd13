"""A small VAE on MNIST, written without latentwalk. Everything latentwalk asks of it is here:

    latent_dim, decode(z) -> images in [0, 1]     required
    encode(x) -> (mean, log-variance)             for scatters, reconstructions, measures, the explorer
    image_shape, data, kind                       a check, the images to encode, a label
    load()                                        the function `--model-entry own_vae.vae:load` names
"""

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

WEIGHTS = Path(__file__).with_name("weights.pt")


class VAE(nn.Module):
    latent_dim = 2
    image_shape = (1, 28, 28)
    data = "mnist"              # the labelled images to encode: a data set latentwalk knows, an .npz or a folder
    kind = "own VAE"

    def __init__(self, hidden: int = 400):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 2 * self.latent_dim))
        self.decoder = nn.Sequential(nn.Linear(self.latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 784))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (n, 1, 28, 28) in [0, 1] -> the posterior's mean and log-variance, each (n, 2)."""
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes (n, 2) -> pixel probabilities (n, 1, 28, 28)."""
        return torch.sigmoid(self.decoder(z)).view(-1, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The negative ELBO of a batch, in nats per image."""
        mean, logvar = self.encode(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        recon = F.binary_cross_entropy_with_logits(self.decoder(z), x.flatten(1), reduction="sum")
        kl = 0.5 * (mean.square() + logvar.exp() - 1 - logvar).sum()
        return (recon + kl) / len(x)


def load() -> VAE:
    if not WEIGHTS.is_file():
        raise FileNotFoundError(f"no {WEIGHTS.name}: train the model first with `python -m own_vae.train`")
    model = VAE()
    model.load_state_dict(torch.load(WEIGHTS, weights_only=True))
    return model.eval()
