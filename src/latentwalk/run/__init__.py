"""A training run on disk: its settings (config) and its folder of checkpoint files (checkpoint)."""
