"""Train a pythae VAE (z = 2, pythae's default networks) on MNIST with pythae's own pipeline, for latentwalk to
open: `python pythae_mnist.py --out pythae_runs` (needs `pip install pythae`), then
`latentwalk serve pythae_runs/VAE_training_*/final_model --data mnist`."""

import argparse
import gzip
from pathlib import Path

import numpy as np
from pythae.models import VAE, VAEConfig
from pythae.pipelines import TrainingPipeline
from pythae.trainers import BaseTrainerConfig


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mnist", type=Path, default=Path(__file__).resolve().parents[1] / "src" / "latentwalk" / "data" / "mnist")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--limit", type=int, default=60_000, help="train on the first N images (a tenth held out)")
    p.add_argument("--out", default="pythae_runs")
    args = p.parse_args()

    raw = gzip.decompress((args.mnist / "train-images-idx3-ubyte.gz").read_bytes())
    x = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 1, 28, 28)[:args.limit].astype(np.float32) / 255
    held = len(x) // 12
    model = VAE(VAEConfig(input_dim=(1, 28, 28), latent_dim=2, reconstruction_loss="bce"))
    config = BaseTrainerConfig(output_dir=args.out, num_epochs=args.epochs, learning_rate=1e-3, no_cuda=True,
                               per_device_train_batch_size=128, per_device_eval_batch_size=512)
    TrainingPipeline(training_config=config, model=model)(train_data=x[:-held], eval_data=x[-held:])


if __name__ == "__main__":
    main()
