"""Training: the loop with resume, distributed ranks and precision options (fit), and the hand-written
forward and backward pass that MLPs train through on one process (fused)."""
