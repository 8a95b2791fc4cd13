"""Walk a latent space: paths as arrays (paths), the geometry of high dimensions (geometry), and the core that
decodes and scores every path (core)."""
