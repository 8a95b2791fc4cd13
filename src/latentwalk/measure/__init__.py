"""Measure: how good a model is (evaluate: ELBO, IWAE, active units) and how good its images are (the digit
classifier and the per-image scores the walk core is given)."""
