from pathlib import Path

from setuptools import find_packages, setup

version = {}
exec(Path("pyro_ccvae/__init__.py").read_text(), version)

setup(
    name="pyro-ccvae",
    version=version["__version__"],
    description="Characteristic Capturing VAEs (Joy et al., ICLR 2021) written as Pyro programs",
    long_description=Path("README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # cli/ is installed as `pyro_ccvae_cli`, a name no other package will have.
    packages=find_packages(include=["pyro_ccvae", "pyro_ccvae.*"]) + ["pyro_ccvae_cli"],
    package_dir={"pyro_ccvae_cli": "cli"},
    # The explorer's page (script, style, HTML) is served from the installed package.
    package_data={"pyro_ccvae.explorer": ["static/*"]},
    install_requires=[
        "torch>=2.1",
        "torchvision>=0.16",
        "pyro-ppl>=1.9",
        "numpy>=1.24",
        "click>=8.1",
        "h5py>=3.8",
        "tqdm>=4.60",
        "matplotlib>=3.7",
        "pillow>=9.0",
        "scipy>=1.10",
        "scikit-learn>=1.3",
    ],
    extras_require={
        # selenium drives Debian's chromium + chromium-driver in the explorer's browser test.
        "test": ["pytest>=7", "nbclient>=0.9", "nbformat>=5.9", "ipykernel>=6", "selenium>=4.15"],
    },
    entry_points={"console_scripts": ["pyro-ccvae = pyro_ccvae_cli.entry:main"]},
)
