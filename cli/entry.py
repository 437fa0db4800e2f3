"""The `pyro-ccvae` console script: Ctrl-C while the libraries load is one line, not a traceback."""

import sys


def main() -> None:
    try:
        from .main import cli
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted (Ctrl-C) while starting\n")
        sys.exit(130)
    cli(prog_name="pyro-ccvae")
