"""Data: named data sets (MNIST bundled), npz files, image folders, and folders converted to be read from disk."""
