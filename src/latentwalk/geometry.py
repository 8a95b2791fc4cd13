"""The geometry of high dimensions in closed form (the public name of `latentwalk.walk.geometry`)."""

from .walk.geometry import (ball_volume, chi_logpdf, chi_mean, chi_pdf, chi_std, log_ball_volume, prior_logpdf,
                            shell_radius)

__all__ = ["ball_volume", "chi_logpdf", "chi_mean", "chi_pdf", "chi_std", "log_ball_volume", "prior_logpdf",
           "shell_radius"]
