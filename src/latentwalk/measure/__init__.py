"""Measure: how good a model is (evaluate: ELBO, IWAE, active units), how good its images are (the shipped digit
classifier and the per-image scores the walk core is given), and how close its samples and paths come to the
data (samplers, quality, ppl; every measure of one model in model_measures)."""
