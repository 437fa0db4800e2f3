"""The `pyro-ccvae` click group; each command lives in its own module."""

import click

from pyro_ccvae import __version__

from . import bench, compare, data, evaluate, explore, fit, manipulate, oracle, sample


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pyro-ccvae")
def cli():
    """Characteristic Capturing VAEs (Joy et al., ICLR 2021) in Pyro.

    Train with `fit`, generate with chosen labels with `sample`, measure with `evaluate`,
    compare with the paper's baselines with `compare`, and turn real data sets into the
    project's HDF5 format with `data prepare`. Explore a run in the browser with `explore`.
    """


cli.add_command(fit.fit)
cli.add_command(sample.sample)
cli.add_command(evaluate.evaluate)
cli.add_command(compare.compare_command)
cli.add_command(data.data)
cli.add_command(bench.bench)
cli.add_command(manipulate.intervene_command)
cli.add_command(manipulate.traverse_command)
cli.add_command(manipulate.swap_command)
cli.add_command(manipulate.diversity_command)
cli.add_command(oracle.oracle)
cli.add_command(explore.explore)
