"""Latent paths as arrays (the public name of `latentwalk.walk.paths`): each returns (steps, d), endpoints included."""

from .walk.paths import (INTERPOLATIONS, gaussian_grid, grid, lerp, nlerp, slerp, sphere_walk, spiral,
                         spiral_parameter, to_cartesian, to_hyperspherical, traverse)

__all__ = ["INTERPOLATIONS", "gaussian_grid", "grid", "lerp", "nlerp", "slerp", "sphere_walk", "spiral",
           "spiral_parameter", "to_cartesian", "to_hyperspherical", "traverse"]
