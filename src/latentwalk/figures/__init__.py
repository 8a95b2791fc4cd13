"""Figures: every figure and animation of the post, drawn with matplotlib (draw, animate) from the walks of the
walk core (gallery), held in memory as pictures and score tables until written (output)."""
