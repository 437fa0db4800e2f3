"""`python -m pyro_ccvae_cli ...` runs the `pyro-ccvae` command line (as torchrun needs)."""

from .entry import main

main()
