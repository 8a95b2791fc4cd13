"""examples/notebook.ipynb, executed by a real Jupyter kernel (nbclient): pictures, walks and measure tables show
inline, with the values they should have."""

import base64
import io
import re

import pytest
from PIL import Image

from conftest import ROOT

pytestmark = pytest.mark.slow          # a Jupyter kernel runs the notebook

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def test_the_example_notebook_runs_and_shows_its_results(tmp_path):
    nb = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
            data = next((o["data"] for o in cell.outputs if o.output_type == "execute_result"), {})
            shown[cell.source.splitlines()[-1].split("#")[0].strip()] = data
    grid = Image.open(io.BytesIO(base64.b64decode(shown["grid"]["image/png"])))
    assert grid.width > 400 and grid.height > 400                  # the 15x15 mosaic, drawn
    walk = Image.open(io.BytesIO(base64.b64decode(shown["walk"]["image/png"])))
    assert walk.size == (2 * 12 * 29, 2 * 28)                       # 12 of its 24 images, side by side
    assert "<th>sharpness</th>" in shown["table"]["text/html"] and "more rows" in shown["table"]["text/html"]
    rows = shown["rows"]["text/html"]
    fd = {s: float(v) for s, v in re.findall(r"<tr><td>(real|prior|gmm)</td><td>1000</td><td>([\d.]+)</td>", rows)}
    assert set(fd) == {"real", "prior", "gmm"} and fd["real"] < 60 < min(fd["gmm"], fd["prior"])
    assert "path length: lerp" in rows and "geodesic" in rows
