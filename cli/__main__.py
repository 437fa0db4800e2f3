"""`python -m pyro_ccvae_cli ...` runs the `pyro-ccvae` command line (as torchrun needs)."""

from .main import cli

cli(prog_name="pyro-ccvae")
