"""`latentwalk …` subcommands: parse the arguments, call the library, print what was written.

Errors a user can cause print one line and exit with code 2; nothing is overwritten.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import ConfigError, LatentwalkError

EXAMPLES = """\
examples:
  latentwalk demo                                            # the whole post as runs/demo/report.html
  latentwalk train --model vae --latent-dim 2 --epochs 20 --out runs/vae2
  latentwalk train --resume --out runs/vae2 --epochs 30      # continue, or train longer
  torchrun --standalone --nproc_per_node 4 -m latentwalk train --out runs/vae2 --device cuda   # 4 GPUs
  latentwalk evaluate runs/vae2 --k 5000 --json
  latentwalk measure runs/demo/ae2 --sampler prior,gmm         # Fréchet distance, precision/recall, path length
  latentwalk convert photos/ data/photos64 --rgb --size 64   # once; then train --data data/photos64 --arch conv
  latentwalk grid runs/vae2 --size 20 --extent -3 3
  latentwalk spiral runs/vae2 --gif
  latentwalk sphere-walk runs/vae10 --loops 20
  latentwalk interpolate runs/vae500 --method lerp,slerp,nlerp --pairs 100
  latentwalk compare runs/ae2 runs/vae2
  latentwalk interpolate --model-entry mypkg.vae:load --method slerp --out figs/   # your own model
  latentwalk serve path/to/pythae/final_model --data mnist                         # a pythae model folder
  latentwalk geometry --out figures
  latentwalk serve runs/demo/ae2 runs/demo/vae2 runs/demo/vae10   # the live explorer on http://127.0.0.1:8765/
"""


def fail(message: str) -> None:
    """Print one line (newlines a user typed into an argument are shown as \\n) and exit with code 2.

    Under torchrun every process fails the same way; rank 0 alone says so."""
    if os.environ.get("RANK", "0") == "0":
        sys.stderr.write("latentwalk: error: " + str(message).replace("\r", "\\r").replace("\n", "\\n") + "\n")
    sys.exit(2)


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, exit code 2 (argparse's own code), no usage dump
        fail(f"{message} (see `{self.prog} --help`)")


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
    t.add_argument("--activation", choices=["relu", "tanh"], help="between the dense layers (default relu)")
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
    t.add_argument("--lr-schedule", choices=["anneal", "constant", "cosine"],
                   help="anneal (default: constant, then down linearly over the last fifth of the epochs), "
                        "constant, or cosine: from --lr down to 0 over the epochs")
    t.add_argument("--kl-warmup", type=int, metavar="EPOCHS",
                   help="raise the KL weight linearly from 0 over the first EPOCHS epochs (default 0: none)")
    t.add_argument("--seed", type=int, help="seed of initialisation, shuffling and noise (default 0)")
    t.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    t.add_argument("--precision", choices=["auto", "float32", "bf16", "fp16"], default="auto",
                   help="auto (default): bf16 autocast where the hardware computes it natively, else float32; "
                        "fp16 needs a GPU")
    t.add_argument("--compile", action="store_true", help="train through torch.compile")
    t.add_argument("--tensorboard", action="store_true",
                   help="log scalars, image grids and the test codes to OUT/tensorboard (see them with "
                        "`tensorboard --logdir runs/`); a resumed run that has them goes on logging")

    v = sub.add_parser("convert", help="convert an image folder or .npz once into a folder read from disk")
    v.add_argument("source", type=Path, help="an image folder (one subfolder per label) or an .npz file")
    v.add_argument("out", type=Path, help="the folder to write; then train with --data OUT")
    colour = v.add_mutually_exclusive_group()
    colour.add_argument("--greyscale", dest="greyscale", action="store_true", default=None, help="convert to grey")
    colour.add_argument("--rgb", dest="greyscale", action="store_false", help="convert to RGB")
    v.add_argument("--size", type=_size, help="resize images, e.g. 64 or 64x64")

    def model_source(c, many: bool = False, what: str = "a run folder made by `latentwalk train`"):
        """The model(s) a command walks: folders (latentwalk runs, pythae models) or --model-entry."""
        c.add_argument("runs" if many else "run", type=Path, nargs="*" if many else "?",
                       help=f"{what}, or a pythae model folder (model_config.json + model.pt)")
        c.add_argument("--model-entry", action="append", metavar="MODULE:FUNCTION",
                       help="your own model: a function returning an object with latent_dim and decode(z)"
                            + (" (repeat for more)" if many else "") + "; see 'Your own model' in the README")
        c.add_argument("--data", help="the labelled images an outside model encodes (mnist, fashion-mnist, an "
                                      ".npz file or an image folder); a run folder reads its own")
        c.add_argument("--trust-pickle", action="store_true",
                       help="open pythae folders holding pickled networks (encoder.pkl, decoder.pkl): unpickling "
                            "runs their code, so only for folders you trust as you would a script you run")
        return c

    e = model_source(sub.add_parser("evaluate", help="test -ELBO, importance-weighted NLL, KL per dimension, "
                                                     "active units"))
    e.add_argument("--k", type=int, default=5000, help="importance samples per image (default 5000)")
    e.add_argument("--limit", type=int, help="evaluate on the first N test images only")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--device", default="auto")

    m = model_source(sub.add_parser("measure", help="Fréchet distance, precision/recall, density/coverage, classes, "
                                                    "path length"))
    m.add_argument("--sampler", default="prior,gmm,posterior",
                   help="comma-separated: prior, gmm (a mixture fitted to the training codes), posterior "
                        "(default all three)")
    m.add_argument("--n", type=int, default=10_000, help="generated and real images per row (default 10000)")
    m.add_argument("--paths", type=int, default=10_000, help="random paths per method for the path length "
                                                            "(default 10000)")
    m.add_argument("--geodesic-paths", type=int, default=100, help="random geodesics for its path length, each an "
                                                                   "optimisation (default 100)")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--json", action="store_true", help="print one JSON object per row")

    d = sub.add_parser("demo", help="the whole post from models trained here, as one HTML report")
    d.add_argument("--out", type=Path, help="folder for the runs and report.html (default runs/demo, "
                                            "runs/demo-quick with --quick)")
    d.add_argument("--quick", action="store_true", help="fewer epochs, frames and samples: same sections, ~30 s")

    def figure_command(name, help_text, run=True):
        c = sub.add_parser(name, help=help_text)
        if run:
            model_source(c)
        c.add_argument("--out", type=Path, help="output folder (default RUN/figures; figures/ for an outside model)")
        return c

    def with_classifier(c):
        c.add_argument("--no-classifier", action="store_true", help="skip the digit classifier's scores")
        return c

    def with_video(c, steps):
        c.add_argument("--steps", type=int, default=steps, help=f"points on the path = frames (default {steps})")
        c.add_argument("--fps", type=int, default=30, help="frames per second (default 30)")
        c.add_argument("--gif", action="store_true", help="also write a half-size GIF")
        return with_classifier(c)

    c = figure_command("summary", "F1: the model as a diagram")
    c = figure_command("grid", "F2: decode a square grid of a latent plane into one mosaic")
    c.add_argument("--size", type=int, default=20, help="points per side (default 20)")
    c.add_argument("--extent", type=float, nargs=2, default=(-3.0, 3.0), metavar=("MIN", "MAX"),
                   help="range of both axes in z units (default -3 3)")
    c.add_argument("--gaussian", action="store_true", help="grid of the prior's quantiles instead of even steps")
    c.add_argument("--dims", type=int, nargs=2, metavar=("I", "J"), help="the two dimensions (needed for d > 2)")
    c.add_argument("--fix", type=float, default=0.0, help="value of the other dimensions (default 0)")
    c = figure_command("scatter", "the encoded test set over the prior, coloured by digit")
    c.add_argument("--limit", type=int, default=5000, help="test images to encode (default 5000)")
    c.add_argument("--dims", type=int, nargs=2, metavar=("I", "J"), help="dimensions (default: largest KL)")
    c = figure_command("samples", "decoded prior samples, test images and their reconstructions")
    c.add_argument("--n", type=int, default=16, help="images per row (default 16)")
    c.add_argument("--seed", type=int, default=0)
    c = figure_command("traverse", "sweep each latent dimension alone")
    c.add_argument("--steps", type=int, default=11)
    c.add_argument("--span", type=float, default=3.0, help="sweep from -SPAN to SPAN (default 3)")
    with_video(figure_command("spiral", "F3: the post's spiral through a 2-D latent plane, as a video"), 300)
    c = with_video(figure_command("sphere-walk", "F6-F8: a walk on the sqrt(d) sphere, as figures and a video"), 600)
    c.add_argument("--loops", type=int, default=20, help="turns of the last angle (default 20)")
    c = with_classifier(figure_command("interpolate", "F10-F11: lerp, slerp, nlerp and geodesics between two codes"))
    c.add_argument("--method", default="lerp,slerp,nlerp", help="comma-separated: lerp, slerp, nlerp, geodesic")
    c.add_argument("--steps", type=int, default=11, help="points per path (default 11: odd, so t = 1/2 is one)")
    c.add_argument("--from", dest="source", default="prior", help="endpoints: prior (default) or test")
    c.add_argument("--pairs", type=int, default=1, help="endpoint pairs to score (default 1)")
    c.add_argument("--seed", type=int, default=0)
    c = with_classifier(figure_command("arithmetic", "test digits moved along an attribute vector"))
    c.add_argument("--vector", required=True, help="ATOB digits (3to8: mean code of the 8s minus the 3s), "
                                                   "thickness or slant (top quartile minus bottom quartile)")
    c.add_argument("--max-scale", type=float, default=2.0, help="scales from -MAX to MAX (default 2)")
    c.add_argument("--steps", type=int, default=9, help="scales per row (default 9)")
    c.add_argument("--n", type=int, default=8, help="test digits, one per row (for ATOB: digits A; default 8)")
    c = with_classifier(figure_command("analogy", "a J-diagram: A is to B as C is to B + C - A"))
    c.add_argument("--corners", type=_ints, default=(0, 1, 2), help="test images A,B,C by index (default 0,1,2)")
    c.add_argument("--size", type=int, default=5, help="grid points per side (default 5)")
    c.add_argument("--method", default="lerp", help="lerp (default) or slerp along both axes")
    c = figure_command("geometry", "F4-F7, F9: high-dimensional geometry, no model needed", run=False)
    c.add_argument("--dims", type=_ints, default=(1, 2, 10, 100, 500), help="dimensions of the norm histograms")
    c = model_source(figure_command("compare", "F12: two models side by side (the post: an AE, then a VAE): latent "
                                               "coverage and prior samples", run=False), many=True,
                     what="two models: run folders (an AE, then a VAE)")
    c.add_argument("--n", type=int, default=1000, help="prior samples to judge (default 1000)")

    c = with_classifier(sub.add_parser("serve", help="the live explorer: a local web page over trained runs"))
    model_source(c, many=True, what="run folders (an AE and a VAE are shown side by side)")
    c.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    c.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    return p


# How a setting is typed on the command line: its flag, and its value as a user writes it
FLAGS = {"kind": "--model", "name": "--data", "greyscale": "--greyscale"}


def _typed(key: str, value) -> str:
    if value is None:          # a setting left to its default: greyscale (keep the source's colour), size
        return "neither --greyscale nor --rgb" if key == "greyscale" else f"no --{key.replace('_', '-')}"
    if isinstance(value, bool):
        if key == "greyscale":
            return "--greyscale" if value else "--rgb"
        return f"--{key.replace('_', '-')}" if value else f"no --{key.replace('_', '-')}"
    shown = ",".join(map(str, value)) if key == "hidden" else "x".join(map(str, value)) if key == "size" else value
    return f"{FLAGS.get(key, '--' + key.replace('_', '-'))} {shown}"


def _check_resume(out: Path, given: dict) -> None:
    """--resume repeats the run's own settings: those given again unchanged are fine, the others are refused,
    named as the user typed them."""
    from dataclasses import asdict

    from .run import checkpoint

    cfg = checkpoint.load_config(out)
    stored = {**cfg.model.to_dict(), **asdict(cfg.data), **asdict(cfg.train)}
    def same(key, value) -> bool:
        if key == "name" and value != stored[key] and os.path.exists(value):      # a data path spelled otherwise
            return Path(value).resolve() == Path(stored[key]).resolve()
        return (tuple(value) if isinstance(value, (list, tuple)) else value) == stored[key]

    differ = [k for k, v in given.items() if not same(k, v)]
    if differ:
        raise ConfigError(f"--resume continues {out} with its own settings, and "
                          + "; ".join(f"{_typed(k, given[k])} differs from its {_typed(k, stored[k])}" for k in differ)
                          + ": drop them or train a new run (only --epochs may change)")


def _train(args) -> None:
    from .models import ModelConfig
    from .run.config import DataConfig, TrainConfig
    from .training.fit import fit

    model_opts = {"kind": args.model, "arch": args.arch, "latent_dim": args.latent_dim, "hidden": args.hidden,
                  "activation": args.activation, "likelihood": args.likelihood, "beta": args.beta}
    data_opts = {"name": args.data, "binarize": args.binarize, "greyscale": args.greyscale, "size": args.size}
    train_opts = {"batch_size": args.batch_size, "lr": args.lr, "lr_schedule": args.lr_schedule, "seed": args.seed,
                  "kl_warmup": args.kl_warmup, "device": args.device}
    given = {k: v for k, v in {**model_opts, **data_opts, **train_opts}.items() if v is not None}
    if args.resume:
        _check_resume(args.out, given)
        fit(args.out, resume=True, epochs=args.epochs, precision=args.precision, compile=args.compile,
            tensorboard=args.tensorboard)
    else:
        def pick(opts):
            return {k: v for k, v in opts.items() if v is not None}
        fit(args.out, ModelConfig(**pick(model_opts)), DataConfig(**pick(data_opts)),
            TrainConfig(**pick(train_opts)), epochs=args.epochs, precision=args.precision, compile=args.compile,
            tensorboard=args.tensorboard)
    if os.environ.get("RANK", "0") == "0":         # under torchrun, rank 0 speaks for all
        print(f"wrote {args.out}")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # All is written and the process group is gone. Skip the interpreter's teardown: there, gloo's
        # threads now and then abort a finished process (SIGABRT, "terminate called without an active
        # exception"), which torchrun would report as a failed run.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _convert(args) -> None:
    from .data.mapped import convert, load

    out = convert(args.source, args.out, args.greyscale, args.size)
    splits = {split: load(out, split)[0] for split in ("train", "test")}
    counts = {split: len(images) for split, images in splits.items()}
    c, h, w = splits["train"].shape[1:]
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out}: {counts['train']:,} train + {counts['test']:,} test images of {c}x{h}x{w} "
          f"({size / 1e6:,.1f} MB)")


def _sources(args) -> list:
    """The models a command names: its folders, then its --model-entry functions, opened and checked."""
    from .run.source import open_sources

    folders = getattr(args, "runs", None) or ([args.run] if getattr(args, "run", None) else [])
    entries = args.model_entry or []
    if not hasattr(args, "runs") and len(folders) + len(entries) > 1:
        raise ConfigError(f"give one folder or one --model-entry: `{args.command}` walks one model")
    return open_sources(folders, entries, args.data, args.trust_pickle)


def _evaluate(args) -> None:
    from .measure.evaluate import evaluate
    from .run import checkpoint
    from .training.fit import choose_device

    source = _sources(args)[0]               # opened once: the run's model, its data
    source.needs("evaluate", "run")
    cfg = checkpoint.load_config(source.run)
    model = source.model.to(choose_device(args.device))
    images, _ = source.test_data(args.limit)
    result = evaluate(model, images, k=args.k, binarize=cfg.data.binarize)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.run}: {result['model'].upper()} with z = {result['latent_dim']}, {result['images']} test images")
    print(f"  -ELBO        {result['neg_elbo']:9.2f} nats  (recon {result['recon']:.2f} + KL {result['kl']:.2f})")
    if result["nll_iwae"] is not None:
        print(f"  NLL IWAE-{result['k']:<4d}{result['nll_iwae']:9.2f} nats")
    print(f"  active units {result['active_units']} of {result['latent_dim']}")


def _figures(args) -> None:
    from .figures import commands

    commands.run(args, [] if args.command == "geometry" else _sources(args))


def _measure(args) -> None:
    from .measure.suite import measure

    source = _sources(args)[0]
    rows = measure(source, [s.strip() for s in args.sampler.split(",")], args.n, args.seed, args.paths,
                   args.geodesic_paths,
                   log=lambda s: print(s, file=sys.stderr))
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    first, net = rows[-1], rows[-1]["network"]
    label = "model" if first["label"] == source.name else first["label"]
    print(f"{source.name}: {label} with z = {first['latent_dim']}; {args.n:,} images per row against "
          f"{first['reference']}; features: {net['network']} ({net['features']}-d, {100 * net['test_accuracy']:.2f}%"
          f" test accuracy, SHA-256 {net['sha256'][:12]}…)")
    print(f"  {'':10s} {'Fréchet':>9s} {'precision':>9s} {'recall':>7s} {'density':>7s} {'coverage':>8s}  "
          f"{'classes (entropy, rarest)':>25s}")
    for r in rows:
        print(f"  {r['sampler']:10s} {r['frechet_distance']:9.2f} {r['precision']:9.3f} {r['recall']:7.3f} "
              f"{r['density']:7.3f} {r['coverage']:8.3f}  {r['class_entropy']:14.3f}, {r['rarest_class']:.3f}")
    if first["ppl"]:
        print(f"  path length over {first['ppl_paths']:,} prior paths ({first['ppl_geodesic_paths']:,} for the "
              f"geodesic; ε = {first['ppl_epsilon']:g}): "
              + ", ".join(f"{m} {v:.1f}" for m, v in first["ppl"].items()))


def _demo(args) -> None:
    from .report.demo import run_demo

    out = args.out or Path("runs/demo-quick" if args.quick else "runs/demo")
    path = run_demo(out, args.quick, log=lambda s: print(s, flush=True))
    print(f"report: {path.resolve()}")


def _serve(args) -> None:
    from .measure import classifier
    try:
        from .explorer.server import serve
    except ImportError:
        raise ConfigError("the explorer needs FastAPI and uvicorn: pip install 'latentwalk[serve]'") from None

    judge = None if args.no_classifier else classifier.load()
    serve(_sources(args), args.host, args.port, judge, log=lambda s: print(s, flush=True))


COMMANDS = {"train": _train, "convert": _convert, "evaluate": _evaluate, "measure": _measure, "demo": _demo,
            "serve": _serve,
            **{c: _figures for c in ("summary", "grid", "scatter", "samples", "traverse", "spiral", "sphere-walk",
                                    "interpolate", "arithmetic", "analogy", "geometry", "compare")}}


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except LatentwalkError as e:
        fail(str(e))
    except OSError as e:       # a full disk, a folder we may not write: what the system said, on one line
        fail(f"{e.strerror or e}" + (f" ({e.filename})" if e.filename else ""))
    except KeyboardInterrupt:
        sys.stderr.write("latentwalk: interrupted\n")
        sys.exit(130)
