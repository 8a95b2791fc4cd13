"""A setting is declared once: a dataclass field with its flag, help, check and how a user types its value.

    latent_dim: int = setting(2, "--latent-dim", "size of z (default {default})", check=at_least(1))

The config classes (`ModelConfig`, `DataConfig`, `TrainConfig`, `TrainOptions`) are made of such fields;
`validate` checks them (errors name the parameter: "latent_dim must be an integer >= 1, got 0"), the CLI derives
its arguments from them (`arguments`), the help shows each default read from the field, and a resumed run's
differences are named as the user typed them (`typed`). Adding a setting touches its field and its use only.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .command import Arg
from .errors import ConfigError, is_int

Check = Callable[[Any], str | None]           # a value -> None if fine, else what it must be ("must be …")


def setting(default, flag: str | tuple[str, str] | None = None, help: str | tuple[str, str] = "", *, check: Check | None = None,
            parse: Callable[[str], Any] | None = None, show: Callable[[Any], str] = str, choices: Sequence = (),
            metavar: str | None = None, derived: bool = False, same: Callable[[Any, Any], bool] | None = None):
    """A dataclass field declared with everything the CLI and the checks need.

    `flag` is how the command line sets it (two flags, `("--greyscale", "--rgb")`, with a help each, for a setting
    that is True, False or None); none for a setting the run derives. `help` may hold `{default}`, the field's default as typed.
    `check` returns None for a good value, else what it must be; `choices` checks membership. `parse` reads the
    typed text (default: the default's type), `show` writes a value back as typed. `derived` settings (filled in
    by training, like the data's fingerprint) are not compared when a run is resumed; `same` says when two values
    mean the same (two spellings of one path), where equality is too strict.
    """
    meta = {"flag": flag, "help": help, "check": check, "parse": parse, "show": show, "choices": tuple(choices),
            "metavar": metavar, "derived": derived, "same": same}
    if isinstance(default, (list, dict, set)):
        raise TypeError("a mutable default: use a tuple")
    return dataclasses.field(default=default, metadata={"setting": meta})


def meta(field: dataclasses.Field) -> dict:
    return field.metadata.get("setting", {})


# --- checks: each returns None for a good value, else what it must be ---

def integer(low: int, high: int | None = None) -> Check:
    what = f"an integer >= {low}" if high is None else f"an integer in {low}..{high}"
    return lambda v: None if is_int(v) and low <= v and (high is None or v <= high) else f"must be {what}"


def positive_number(v) -> str | None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
    return None if ok else "must be a finite number > 0"


def non_negative_number(v) -> str | None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
    return None if ok else "must be a finite number >= 0"


def boolean(v) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def optional_boolean(v) -> str | None:
    return None if v in (None, True, False) else "must be true, false or null"


def text(v) -> str | None:
    return None if isinstance(v, str) else "must be a string"


def non_empty_text(v) -> str | None:
    return None if isinstance(v, str) and v else "must be a non-empty name or path"


def integers(low: int, high: int, count: int | None = None) -> Check:
    """A tuple of integers in low..high (exactly `count` of them, if given)."""
    what = (f"{count} integers" if count else "integers") + f" in {low}..{high}"
    return lambda v: None if isinstance(v, tuple) and (count is None or len(v) == count) and len(v) >= 1 and all(
        is_int(x) and low <= x <= high for x in v) else f"must be {what}"


def optional(check: Check) -> Check:
    return lambda v: None if v is None else check(v)


def validate(config) -> None:
    """Check every setting of a config dataclass; the first bad one raises a ConfigError naming its parameter."""
    for f in dataclasses.fields(config):
        m, value = meta(f), getattr(config, f.name)
        problem = (m["check"] and m["check"](value)) or (
            m.get("choices") and value not in m["choices"] and f"must be one of {', '.join(m['choices'])}")
        if problem:
            raise ConfigError(f"`{f.name}` {problem}, got {value!r}")


# --- how a value is typed on the command line ---

def ints(text: str) -> tuple[int, ...]:
    """'200,200' -> (200, 200)."""
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 200,200, got {text!r}") from None


def image_size(text: str) -> tuple[int, int]:
    """'28' -> (28, 28), '64x48' -> (64, 48)."""
    parts = text.lower().split("x")
    try:
        if len(parts) <= 2:
            return int(parts[0]), int(parts[-1])
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a size like 28 or 64x64, got {text!r}")


def joined(sep: str) -> Callable[[Any], str]:
    return lambda value: sep.join(map(str, value))


def typed(field: dataclasses.Field, value) -> str:
    """A value as the user types it: `--latent-dim 4`, `--hidden 64,32`, `--binarize`, `no --size`, `--rgb`."""
    m = meta(field)
    flag = m["flag"]
    if isinstance(flag, tuple):                        # True / False / None: the first flag, the second, neither
        return {True: flag[0], False: flag[1]}.get(value, f"neither {flag[0]} nor {flag[1]}")
    if value is None or value is False:
        return f"no {flag}"
    if value is True:
        return flag
    return f"{flag} {m['show'](value)}"


def shown_default(field: dataclasses.Field) -> str:
    value = field.default
    return f"{value:g}" if isinstance(value, float) else meta(field)["show"](value)


def arguments(config: type) -> list[Arg]:
    """The command-line argument of each setting of `config` that has a flag, in field order. Every default is
    None, so that a command can tell a setting the user typed from one left alone."""
    out = []
    for f in dataclasses.fields(config):
        m = meta(f)
        if not m.get("flag"):
            continue
        if isinstance(m["flag"], tuple):           # two flags: their helps, in the same order
            out.append(Arg(*m["flag"], dest=f.name, helps=m["help"]))
            continue
        text = m["help"].format(default=shown_default(f)) if "{default}" in m["help"] else m["help"]
        if isinstance(f.default, bool):
            out.append(Arg(m["flag"], dest=f.name, action="store_true", default=None, help=text))
            continue
        kw = {"dest": f.name, "default": None, "help": text, "type": m["parse"] or type(f.default)}
        if m["choices"]:
            kw["choices"] = list(m["choices"])
        if m["metavar"]:
            kw["metavar"] = m["metavar"]
        out.append(Arg(m["flag"], **kw))
    return out


def split(configs: Sequence[type], values: dict) -> list[dict]:
    """The values a user typed (not None), shared out among the config classes whose settings they are."""
    return [{f.name: values[f.name] for f in dataclasses.fields(c) if values.get(f.name) is not None}
            for c in configs]


# --- a resumed run keeps its settings ---

def same_path(a: str, b: str) -> bool:
    """Two spellings of one data path (or one name)."""
    return a == b or (os.path.exists(a) and os.path.exists(b) and Path(a).resolve() == Path(b).resolve())


class SettingsDiffer(ConfigError):
    """Settings given to continue a run that differ from the run's own: each named, in Python by the library
    (latent_dim=3 differs from its latent_dim=4), as typed by the CLI (--latent-dim 3 differs from its
    --latent-dim 4)."""

    def __init__(self, run, differences: list[tuple[dataclasses.Field, Any, Any]]):
        self.run, self.differences = run, differences
        super().__init__(self._message(lambda f, v: f"{f.name}={v!r}"))

    def _message(self, show: Callable[[dataclasses.Field, Any], str]) -> str:
        return (f"`resume` continues {self.run} with its own settings, and "
                + "; ".join(f"{show(f, given)} differs from its {show(f, stored)}"
                            for f, given, stored in self.differences)
                + ": drop them or train a new run (only `epochs` may change)")

    def render(self, flag) -> str:
        return ConfigError(self._message(typed)).render(flag)


def check_unchanged(run, pairs: Sequence[tuple[Any, Any]]) -> None:
    """Raise SettingsDiffer unless each given config (of the (given, stored) pairs) equals the stored one in every
    setting but the derived ones and `epochs`, which a resumed run may raise."""
    differ = []
    for given, stored in pairs:
        for f in dataclasses.fields(given):
            m, a, b = meta(f), getattr(given, f.name), getattr(stored, f.name)
            if m.get("derived") or f.name == "epochs" or a == b or (m.get("same") and m["same"](a, b)):
                continue
            differ.append((f, a, b))
    if differ:
        raise SettingsDiffer(run, differ)
