"""Compiled extensions, built by ``pip install`` from the C sources next to this file."""
