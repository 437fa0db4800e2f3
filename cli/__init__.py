"""The `pyro-ccvae` command line: thin click commands over the `pyro_ccvae` library. Installed
as the package `pyro_ccvae_cli` (setup.py maps this folder to that name)."""
