"""The `pyro-ccvae` command line: thin click commands over the `pyro_ccvae` library."""
