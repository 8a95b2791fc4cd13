"""Where a model to walk comes from: a latentwalk run folder, a pythae model folder, or an entry point.

Every command that walks one model opens it here, as a `Source`: the model, the name it is shown by, its
data (the run's own, or the data set an outside model names or `--data` gives) and, for latentwalk's own
runs, the run folder, where measures are kept. Commands say up front what they need (`needs`), so that a
model lacking it is one line: "scatter needs encode(x): … has none".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ..command import Arg
from ..data import datasets
from ..errors import ConfigError, RunError
from ..models import pythae_folder
from ..models.autoencoder import AutoEncoder
from ..models.external import CapabilityError, External, from_entry
from . import checkpoint

NEEDS = {   # what a command may need beyond decode(z), and what to do when a model lacks it
    "encode": "needs encode(x), and {name} has none: give the model one (see 'Your own model' in the README)",
    "data": "needs labelled images to encode, and {name} names none: pass `data` with the data set it was "
            "trained on, e.g. `data` mnist",
    "run": "needs a latentwalk run folder, and {name} is not one: its numbers come from the likelihood latentwalk "
           "trains with (`latentwalk measure` measures any model)",
}


@dataclass
class Source:
    name: str                              # how figures, tables and the explorer call it
    model: AutoEncoder | External
    run: Path | None = None                # latentwalk's own run folder (its data, metrics, stored measures)
    data: str | None = None                # an outside model's data set, as `datasets.load` names it

    @property
    def can_encode(self) -> bool:
        return isinstance(self.model, AutoEncoder) or self.model.can_encode

    @property
    def has_data(self) -> bool:
        return self.run is not None or self.data is not None

    @property
    def data_name(self) -> str | None:
        """The data set it encodes, as `latentwalk train --data` names it: the run's own, or the one given."""
        return checkpoint.load_config(self.run).data.name if self.run is not None else self.data

    def needs(self, what: str, *capabilities: str) -> None:
        """Raise a one-line CapabilityError if the model lacks one of `capabilities` (keys of NEEDS)."""
        have = {"encode": self.can_encode, "data": self.has_data, "run": self.run is not None}
        for c in capabilities:
            if not have[c]:
                raise CapabilityError(f"{what} " + NEEDS[c].format(name=self.name))

    def _split(self, split: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.run is not None:
            return checkpoint.train_data(self.run) if split == "train" else checkpoint.test_data(self.run)
        self.needs("reading its images", "data")
        images, labels = datasets.load(self.data, split)
        if tuple(images.shape[1:]) != tuple(self.model.image_shape):
            raise ConfigError(f"{self.data} holds {'x'.join(map(str, images.shape[1:]))} images and {self.name} "
                              f"decodes {'x'.join(map(str, self.model.image_shape))}: give `data` with images of "
                              f"its size")
        return images, labels

    def train_data(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self._split("train")

    def test_data(self, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        if limit is not None and limit < 1:
            raise ConfigError(f"`limit` must be >= 1, got {limit}")
        images, labels = self._split("test")
        if limit is None:
            return images, labels
        return images[:limit], (labels[:limit] if labels is not None else None)


def open_folder(path: str | os.PathLike, data: str | None = None, trust_pickle: bool = False) -> Source:
    """A latentwalk run folder or a pythae model folder (told apart by their files). `data` is for the
    pythae folder; a run folder reads the data it was trained on."""
    path = Path(path)
    foreign = path.is_dir() and not (path / checkpoint.CONFIG).exists()
    if foreign and pythae_folder.is_pythae_folder(path / "final_model"):
        raise RunError(f"{path} is a pythae training folder: give its model, {path / 'final_model'}")
    if foreign and pythae_folder.is_pythae_folder(path):
        model = External(pythae_folder.load(path, trust_pickle), str(path))
        return Source(path.name, model, data=data)
    return Source(path.name, checkpoint.load(path), run=path)


def open_entry(spec: str, data: str | None = None) -> Source:
    """The model an entry point `package.module:function` returns; its data from `data`, else its own."""
    model = from_entry(spec)
    return Source(spec, model, data=data if data is not None else model.data)


def _names(folders: list[Path]) -> list[str]:
    """Each folder's name, with as many parent folders as it takes to tell it from the others."""
    parts = [f.resolve().parts for f in folders]
    if len(set(parts)) < len(parts):
        raise ConfigError("the same folder is given twice")
    names = []
    for i, p in enumerate(parts):
        for depth in range(1, len(p) + 1):
            name = "/".join(p[-depth:])
            if all("/".join(q[-depth:]) != name for j, q in enumerate(parts) if j != i):
                break
        names.append(name)
    return names


def open_sources(folders: list, entries: list[str], data: str | None = None,
                 trust_pickle: bool = False) -> list[Source]:
    """Folders, then entry points, each opened once, each named so that no two share a name."""
    if not folders and not entries:
        raise RunError("give a run folder (or a pythae model folder), or `model_entry` package.module:function")
    if len(set(entries)) < len(entries):
        raise ConfigError("the same `model_entry` is given twice")
    folders = [Path(f) for f in folders]
    sources = [open_folder(f, data, trust_pickle) for f in folders]
    for source, name in zip(sources, _names(folders)):
        source.name = name
    sources += [open_entry(e, data) for e in entries]
    if data is not None and all(s.run is not None for s in sources):
        raise ConfigError("`data` is for outside models: a run folder reads the data it was trained on")
    return sources


def arguments(many: bool, what: str) -> tuple[Arg, ...]:
    """The arguments naming the model(s) a command walks: folders (latentwalk runs, pythae models) or entry
    points, the data an outside model encodes, and the consent to unpickle."""
    return (Arg("runs" if many else "run", type=Path, nargs="*" if many else "?",
                help=f"{what}, or a pythae model folder (model_config.json + model.pt)"),
            Arg("--model-entry", action="append", metavar="MODULE:FUNCTION",
                help="your own model: a function returning an object with latent_dim and decode(z)"
                     + (" (repeat for more)" if many else "") + "; see 'Your own model' in the README"),
            Arg("--data", help="the labelled images an outside model encodes (mnist, fashion-mnist, an .npz file or "
                               "an image folder); a run folder reads its own"),
            Arg("--trust-pickle", action="store_true",
                help="open pythae folders holding pickled networks (encoder.pkl, decoder.pkl): unpickling runs "
                     "their code, so only for folders you trust as you would a script you run"))


def open_for(command: str, needs: tuple[str, ...], many: bool, run: Path | None = None, runs: list | None = None,
             model_entry: list[str] | None = None, data: str | None = None,
             trust_pickle: bool = False) -> list[Source]:
    """The models a command names (the values of `arguments`), opened, each checked for what it `needs`."""
    folders = runs or ([run] if run else [])
    entries = model_entry or []
    if not many and len(folders) + len(entries) > 1:
        raise ConfigError(f"give one folder or one `model_entry`: `{command}` walks one model")
    sources = open_sources(folders, entries, data, trust_pickle)
    for source in sources:
        source.needs(command, *needs)
    return sources
