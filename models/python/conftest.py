"""pytest root for models/python: its directory is put on sys.path so ``import vqrae`` works."""
