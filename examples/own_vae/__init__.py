"""A VAE of one's own, in plain PyTorch: `python -m own_vae.train` trains it, and latentwalk walks, measures
and serves it through `--model-entry own_vae.vae:load` (run both from the examples/ folder)."""
