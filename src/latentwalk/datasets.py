"""`latentwalk.datasets` is `latentwalk.data.datasets` (lw.datasets): this name is kept for scripts that import it."""

import sys

from .data import datasets

sys.modules[__name__] = datasets
