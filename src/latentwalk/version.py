"""The package's version: written into every run folder and report, imported by them without importing the package."""

__version__ = "0.1.0"
