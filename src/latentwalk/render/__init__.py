"""Figures and animations: the only modules that import matplotlib."""
