"""pyro-ccvae: the Characteristic Capturing VAE (Joy et al., ICLR 2021) as Pyro programs."""

__version__ = "0.1.0"
