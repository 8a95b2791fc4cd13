"""What the figure layer makes, held in memory until someone writes it: pictures (PNG, SVG, MP4, GIF bytes under
one name) and tables of per-point scores (CSV and JSON side by side). The CLI writes them into a folder; the
report embeds the same bytes, without reading anything back from disk; Jupyter shows them inline
(`_repr_png_`, `_repr_html_`)."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import atomic

MIME = {".png": "image/png", ".svg": "image/svg+xml", ".mp4": "video/mp4", ".gif": "image/gif"}


@dataclass(frozen=True)
class Picture:
    name: str                      # the file stem: "grid", "spiral", …
    files: dict[str, bytes]        # suffix -> encoded bytes, e.g. {".png": …, ".svg": …}

    def _repr_png_(self) -> bytes | None:
        return self.files.get(".png")

    def _repr_html_(self) -> str | None:
        """A video (or GIF) plays inline; a still picture is left to _repr_png_."""
        for suffix in (".mp4", ".gif"):
            if suffix in self.files and ".png" not in self.files:
                src = f"data:{MIME[suffix]};base64,{base64.b64encode(self.files[suffix]).decode()}"
                return f'<video src="{src}" controls loop></video>' if suffix == ".mp4" else f'<img src="{src}">'
        return None

    def write(self, folder: str | Path) -> list[Path]:
        written = []
        for suffix, data in self.files.items():
            path = Path(folder) / f"{self.name}{suffix}"
            atomic.write_bytes(path, data)
            written.append(path)
        return written


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, np.ndarray]   # each (rows,); a column named "digit" holds integers

    def _repr_html_(self, rows: int = 12) -> str:
        """The first `rows` rows as an HTML table, the count of the rest below."""
        n = len(next(iter(self.columns.values()), []))
        head = "".join(f"<th>{html.escape(k)}</th>" for k in self.columns)
        body = "".join("<tr><td>" + str(i) + "</td>" + "".join(
            f"<td>{int(v[i]) if k == 'digit' else f'{float(v[i]):.4g}'}</td>" for k, v in self.columns.items())
            + "</tr>" for i in range(min(n, rows)))
        more = f"<p>… {n - rows} more rows (all of them: .write(folder))</p>" if n > rows else ""
        return f"<table><tr><th>step</th>{head}</tr>{body}</table>{more}"

    def write(self, folder: str | Path) -> list[Path]:
        """`name`.csv (a step column first, 6 significant digits) and `name`.json (full precision)."""
        csv_path = Path(folder) / f"{self.name}.csv"
        names = list(self.columns)
        rows = np.column_stack([np.asarray(self.columns[k], dtype=np.float64) for k in names])
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["step", *names])
        for i, row in enumerate(rows):
            w.writerow([i, *(int(v) if k == "digit" else f"{v:.6g}" for k, v in zip(names, row))])
        atomic.write_text(csv_path, buf.getvalue())
        json_path = csv_path.with_suffix(".json")
        atomic.write_text(json_path, json.dumps({k: np.asarray(v).tolist() for k, v in self.columns.items()}))
        return [csv_path, json_path]


def write(outputs: Iterable[Picture | Table], folder: str | Path) -> list[Path]:
    """Write every picture and table into `folder`; return the files written, in order."""
    return [path for out in outputs for path in out.write(folder)]


def find(outputs: Iterable[Picture | Table], name: str) -> Picture:
    """The picture called `name` among `outputs`."""
    return next(o for o in outputs if isinstance(o, Picture) and o.name == name)
