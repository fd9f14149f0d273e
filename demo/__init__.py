"""The `make demo` entry point: see demo/__main__.py."""
