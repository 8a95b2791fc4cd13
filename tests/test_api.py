"""The public API: `import latentwalk as lw` gives what a notebook needs, loads lazily, and every public name says
what it is in a docstring (the API reference, `make docs`, is built from them)."""

from __future__ import annotations

import inspect
import io
import subprocess
import sys
from contextlib import redirect_stdout
from types import ModuleType

import latentwalk as lw


def fresh_python(code: str) -> None:
    """Run `code` in a new interpreter (what a module imports is only seen from a fresh start); it must pass."""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr


def public_objects():
    """Every public name of the API, and every public function and class of its public modules."""
    for name in lw.__all__:
        if name == "__version__":
            continue
        value = getattr(lw, name)
        yield f"lw.{name}", value
        if isinstance(value, ModuleType):
            for member, obj in vars(value).items():
                if not member.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj)) \
                        and obj.__module__ == value.__name__:
                    yield f"lw.{name}.{member}", obj


def test_every_public_name_has_a_docstring():
    missing = [name for name, obj in public_objects() if not (inspect.getdoc(obj) or "").strip()]
    assert missing == []


def test_help_lists_the_public_api():
    text = io.StringIO()
    with redirect_stdout(text):
        help(lw)
    for name in ("fit", "ModelConfig", "DataConfig", "TrainConfig", "load", "datasets", "paths", "walk_path",
                 "measure_model", "gallery", "serve", "LatentwalkError"):
        assert f"- `{name}`: " in text.getvalue(), name


def test_import_latentwalk_loads_neither_matplotlib_nor_fastapi():
    code = ("import sys, latentwalk as lw\n"
            "heavy = {'matplotlib', 'fastapi', 'torch'} & set(sys.modules)\n"
            "assert not heavy, heavy\n"
            "lw.fit; lw.load; lw.paths.slerp\n"
            "assert not {'matplotlib', 'fastapi'} & set(sys.modules)\n"
            "import latentwalk.paths, latentwalk.geometry, latentwalk.datasets\n"
            "from latentwalk.training.fit import fit\n"
            "assert latentwalk.paths is lw.paths and latentwalk.datasets.load is lw.datasets.load and fit is lw.fit\n")
    fresh_python(code)


def test_no_public_name_is_shadowed_by_a_subpackage():
    """Importing a subpackage sets it as an attribute of the package: a public name that were a subpackage's
    name (walk, measure, figures) would turn into that module once anything imported it."""
    code = ("import importlib, pkgutil, latentwalk as lw\n"
            "for m in pkgutil.walk_packages(lw.__path__, 'latentwalk.'):\n"
            "    if not m.name.endswith('__main__'):\n"
            "        importlib.import_module(m.name)\n"
            "for name, (module, attribute, _) in lw._PUBLIC.items():\n"
            "    want = importlib.import_module(module)\n"
            "    assert getattr(lw, name) is (want if attribute is None else getattr(want, attribute)), name\n"
            "assert callable(lw.walk_path) and callable(lw.measure_model)\n")
    fresh_python(code)


def test_an_unknown_name_is_an_attribute_error():
    try:
        lw.no_such_thing
    except AttributeError as e:
        assert "no_such_thing" in str(e)
    else:
        raise AssertionError("lw.no_such_thing did not raise")
