"""`latentwalk.geometry` is `latentwalk.walk.geometry` (lw.geometry): this name is kept for scripts that import it."""

import sys

from .walk import geometry

sys.modules[__name__] = geometry
