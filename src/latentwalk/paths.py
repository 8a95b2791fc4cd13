"""`latentwalk.paths` is `latentwalk.walk.paths` (lw.paths): this name is kept for scripts that import it."""

import sys

from .walk import paths

sys.modules[__name__] = paths
