"""The layout of the package: the layers of the flow and no import cycles (import-linter), the public names in a
fresh interpreter, file-relative paths that moved with their files, and an installed copy that works alone."""

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import grimp
import pytest

from latentwalk.data import datasets

from conftest import ROOT

BIN = Path(sys.executable).parent


def python(code: str, cwd: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **env}, timeout=300)


def test_import_contracts_hold():
    p = subprocess.run([str(BIN / "lint-imports"), "pyproject.toml"], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-3000:]
    assert "3 kept, 0 broken" in p.stdout


def test_imports_inside_functions_are_part_of_the_graph():
    """The contracts see what commands import inside their functions (so such an import cannot hide a cycle)."""
    graph = grimp.build_graph("latentwalk")
    assert graph.direct_import_exists(importer="latentwalk.report.commands", imported="latentwalk.report.demo")
    assert graph.direct_import_exists(importer="latentwalk.explorer.commands", imported="latentwalk.explorer.server")
    assert graph.find_shortest_chain(importer="latentwalk.walk.core", imported="latentwalk.measure.classifier") \
        is None, "the walk core must be given its scorers, not import the classifier"


def test_no_source_module_is_long():
    sources = [p for p in (ROOT / "src" / "latentwalk").rglob("*") if p.suffix in (".py", ".js", ".html", ".css")]
    long = {str(p.relative_to(ROOT)): n for p in sources if (n := len(p.read_text().splitlines())) > 420}
    assert len(sources) > 40 and long == {}


@pytest.mark.slow
def test_public_names_in_a_fresh_interpreter(tmp_path):
    p = python("import latentwalk.paths\n"
               "from latentwalk.paths import slerp\n"
               "import latentwalk\n"
               "import numpy as np\n"
               "assert slerp(np.ones(3), -np.ones(3) + 2 * np.eye(3)[0], 5).shape == (5, 3)\n"
               "assert callable(latentwalk.load) and callable(latentwalk.datasets.load)\n"
               "assert abs(latentwalk.geometry.ball_volume(5) - 8 * np.pi ** 2 / 15) < 1e-12\n"
               "images, labels = latentwalk.datasets.load('mnist', 'test')\n"
               "assert tuple(images.shape) == (10000, 1, 28, 28) and labels[:3].tolist() == [7, 2, 1]\n"
               "print('ok', latentwalk.__version__)", tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.startswith("ok 0.")


def test_the_bundled_data_folder_moved_with_the_loader():
    assert datasets.BUNDLE_DIR.resolve() == (ROOT / "src" / "latentwalk" / "data").resolve() \
        or "LATENTWALK_DATA" in os.environ
    assert (datasets.BUNDLE_DIR / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A plain (not editable) install of the package into a folder of its own."""
    target = tmp_path_factory.mktemp("installed")
    p = subprocess.run([str(BIN / "pip"), "install", "-q", "--no-deps", "--no-build-isolation", "--target",
                        str(target), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return target


@pytest.mark.slow
def test_an_installed_copy_works_alone(installed, tmp_path):
    code = ("import latentwalk, latentwalk.paths\n"
            "from latentwalk.explorer import server\n"
            "from importlib import resources\n"
            "assert latentwalk.__file__.startswith(%r), latentwalk.__file__\n"
            "static = resources.files('latentwalk.explorer') / 'static'\n"
            "assert all((static / name).is_file() for name, _ in server.ASSETS.values())\n"
            "from latentwalk.measure import classifier\n"
            "assert classifier.load() is not None and classifier.FILE.is_relative_to(%r)\n"
            "from latentwalk.cli import main\n"
            "main(['geometry', '--out', 'figures', '--dims', '1,10'])\n") % (str(installed), str(installed))
    p = python(code, tmp_path, PYTHONPATH=str(installed))
    assert p.returncode == 0, p.stderr[-3000:]
    assert (tmp_path / "figures" / "ball_volume.png").stat().st_size > 10_000
    p = python("import latentwalk; x, _ = latentwalk.datasets.load('mnist', 'test'); print(len(x))", tmp_path,
               PYTHONPATH=str(installed))                      # the bundled MNIST travels inside the package
    assert p.returncode == 0 and p.stdout.strip() == "10000", p.stderr[-3000:]


@pytest.mark.slow
def test_the_wheel_carries_the_data_weights_and_page(tmp_path):
    """`python -m build` makes a wheel holding what works outside the repository: the bundled MNIST, the
    classifier's weights, the explorer's page (tools/check_wheel.sh, run by CI, installs it and runs the demo)."""
    p = subprocess.run([str(BIN / "python"), "-m", "build", "--outdir", str(tmp_path), str(ROOT)],   # via the sdist
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    (wheel,) = tmp_path.glob("latentwalk-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    assert {f"latentwalk/data/mnist/{f}-ubyte.gz" for f in ("train-images-idx3", "train-labels-idx1",
                                                            "t10k-images-idx3", "t10k-labels-idx1")} <= names
    assert "latentwalk/measure/mnist_digitnet.safetensors" in names
    assert "latentwalk/explorer/static/index.html" in names and "latentwalk/cli.py" in names
    assert not any(n.startswith(("tests/", "examples/", "benchmarks/")) for n in names)
    tracked = subprocess.run(["git", "ls-files", "src/latentwalk"], capture_output=True, text=True, cwd=ROOT).stdout
    assert {n for n in names if n.endswith(".py")} == \
        {f.removeprefix("src/") for f in tracked.split() if f.endswith(".py")}       # exactly the package's modules
    assert 10e6 < wheel.stat().st_size < 16e6


def test_readme_architecture_matches_the_folders():
    """Every box of the README's diagram is a folder (or file) of the package, every folder has a box, and the
    table names every module of each folder, and only modules that exist."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    diagram = section.split("```", 2)[1]
    boxes = set(re.findall(r"(?:^ |\s{5,})([a-z_]+/|cli\.py)  ", diagram, re.M))       # a box: a name, then 2 spaces
    package = ROOT / "src" / "latentwalk"
    folders = {p.name + "/" for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert boxes - {"cli.py"} == folders and (package / "cli.py").is_file()
    rows = re.findall(r"^\| `([a-z_]+)/` \| (.*) \|$", section, re.M)
    assert {f + "/" for f, _ in rows} == folders
    for folder, cell in rows:
        named = set(re.findall(r"`([a-z_]+\.py|static/)`", cell))
        for name in named:
            assert (package / folder / name).exists(), f"{folder}/{name}"
        modules = {p.name for p in (package / folder).glob("*.py")} - {"__init__.py"}
        assert modules <= named, f"the README's row of {folder}/ does not name {sorted(modules - named)}"
