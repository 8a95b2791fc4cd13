"""`latentwalk …` subcommands: parse the arguments, call the library, print what was written.

Errors a user can cause print one line and exit with code 2; nothing is overwritten.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import ConfigError, LatentwalkError

EXAMPLES = """\
examples:
  latentwalk train --model vae --latent-dim 2 --epochs 20 --out runs/vae2
  latentwalk train --resume --out runs/vae2 --epochs 30      # continue, or train longer
  latentwalk evaluate runs/vae2 --k 5000 --json
  latentwalk grid runs/vae2 --size 20 --extent -3 3
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, exit code 2 (argparse's own code), no usage dump
        sys.stderr.write(f"latentwalk: error: {message} (see `{self.prog} --help`)\n")
        sys.exit(2)


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 200,200, got {text!r}") from None
    return values


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        h, w = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (None, None)
    except ValueError:
        h = w = None
    if h is None:
        raise argparse.ArgumentTypeError(f"expected a size like 28 or 64x64, got {text!r}")
    return h, w


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="latentwalk", description="Train auto-encoders and VAEs and walk their latent spaces.",
                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train an AE or a VAE into a run folder",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--out", required=True, type=Path, help="run folder to create (or continue with --resume)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its last finished epoch")
    t.add_argument("--model", choices=["ae", "vae"], help="kind of model (default vae)")
    t.add_argument("--arch", choices=["mlp", "conv"], help="encoder/decoder network (default mlp)")
    t.add_argument("--latent-dim", type=int, help="size of z (default 2)")
    t.add_argument("--hidden", type=_ints, help="hidden layer sizes, e.g. 200,200 (the default)")
    t.add_argument("--likelihood", choices=["bernoulli", "gaussian"], help="pixel model (default bernoulli)")
    t.add_argument("--beta", type=float, help="KL weight of a beta-VAE (default 1)")
    t.add_argument("--data", help="mnist (default), fashion-mnist, an .npz file or an image folder")
    t.add_argument("--binarize", action="store_true", default=None, help="dynamic binarization of the pixels")
    colour = t.add_mutually_exclusive_group()
    colour.add_argument("--greyscale", dest="greyscale", action="store_true", default=None, help="convert to grey")
    colour.add_argument("--rgb", dest="greyscale", action="store_false", help="convert to RGB")
    t.add_argument("--size", type=_size, help="resize images, e.g. 32 or 64x64")
    t.add_argument("--epochs", type=int, help="passes over the training set (default 20)")
    t.add_argument("--batch-size", type=int, help="images per step (default 128)")
    t.add_argument("--lr", type=float, help="Adam learning rate (default 1e-3)")
    t.add_argument("--seed", type=int, help="seed of initialisation, shuffling and noise (default 0)")
    t.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")

    e = sub.add_parser("evaluate", help="test -ELBO, importance-weighted NLL, KL per dimension, active units")
    e.add_argument("run", type=Path)
    e.add_argument("--k", type=int, default=5000, help="importance samples per image (default 5000)")
    e.add_argument("--limit", type=int, help="evaluate on the first N test images only")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--device", default="auto")

    g = sub.add_parser("grid", help="decode a square grid of the 2-D latent plane into one mosaic (F2)")
    g.add_argument("run", type=Path)
    g.add_argument("--size", type=int, default=20, help="points per side (default 20)")
    g.add_argument("--extent", type=float, nargs=2, default=(-3.0, 3.0), metavar=("MIN", "MAX"),
                   help="range of both axes in z units (default -3 3)")
    g.add_argument("--out", type=Path, help="image file (default RUN/grid.png)")
    return p


def _train(args) -> None:
    from .models import ModelConfig
    from .runconfig import DataConfig, TrainConfig
    from .train import fit

    model_opts = {"kind": args.model, "arch": args.arch, "latent_dim": args.latent_dim, "hidden": args.hidden,
                  "likelihood": args.likelihood, "beta": args.beta}
    data_opts = {"name": args.data, "binarize": args.binarize, "greyscale": args.greyscale, "size": args.size}
    train_opts = {"batch_size": args.batch_size, "lr": args.lr, "seed": args.seed, "device": args.device}
    given = [k for k, v in {**model_opts, **data_opts, **train_opts}.items() if v is not None]
    if args.resume:
        if given:
            raise ConfigError(f"--resume continues the run with its own settings; only --epochs may change "
                              f"(drop {', '.join('--' + k.replace('_', '-') for k in given)})")
        fit(args.out, resume=True, epochs=args.epochs)
    else:
        def pick(opts):
            return {k: v for k, v in opts.items() if v is not None}
        fit(args.out, ModelConfig(**pick(model_opts)), DataConfig(**pick(data_opts)),
            TrainConfig(**pick(train_opts)), epochs=args.epochs)
    print(f"wrote {args.out}")


def _evaluate(args) -> None:
    from . import checkpoint
    from .datasets import load as load_data
    from .evaluate import evaluate
    from .train import choose_device

    cfg = checkpoint.load_config(args.run)
    model = checkpoint.load(args.run, choose_device(args.device))
    images, _ = load_data(cfg.data.name, "test", greyscale=cfg.data.greyscale, size=cfg.data.size)
    if args.limit is not None:
        if args.limit < 1:
            raise ConfigError(f"--limit must be >= 1, got {args.limit}")
        images = images[:args.limit]
    result = evaluate(model, images, k=args.k, binarize=cfg.data.binarize)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.run}: {result['model'].upper()} with z = {result['latent_dim']}, {result['images']} test images")
    print(f"  -ELBO        {result['neg_elbo']:9.2f} nats  (recon {result['recon']:.2f} + KL {result['kl']:.2f})")
    if result["nll_iwae"] is not None:
        print(f"  NLL IWAE-{result['k']:<4d}{result['nll_iwae']:9.2f} nats")
    print(f"  active units {result['active_units']} of {result['latent_dim']}")


def _grid(args) -> None:
    from . import checkpoint, explore, paths
    from .render import figures

    model = checkpoint.load(args.run)
    if model.latent_dim != 2:
        raise ConfigError(f"grid draws a 2-D latent plane; {args.run} has z = {model.latent_dim}")
    z = paths.grid(args.size, tuple(args.extent))
    out = figures.latent_grid(explore.decode(model, z), args.size, tuple(args.extent), args.out or args.run / "grid.png",
                              title=f"{args.run.name}: decoded {args.size}x{args.size} grid")
    print(f"wrote {out}")


COMMANDS = {"train": _train, "evaluate": _evaluate, "grid": _grid}


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except LatentwalkError as e:
        sys.stderr.write(f"latentwalk: error: {e}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("latentwalk: interrupted\n")
        sys.exit(130)
