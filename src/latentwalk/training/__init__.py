"""Training: the loop with resume, distributed ranks and its options (fit), and the number format it trains
in (precision)."""
