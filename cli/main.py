"""The `pyro-ccvae` click group; each command lives in its own module."""

import click

from pyro_ccvae import __version__
from pyro_ccvae.training.distributed import launched_rank

from . import bench, compare, data, evaluate, explore, fit, latent_analysis, manipulate, oracle, sample


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pyro-ccvae")
@click.pass_context
def cli(ctx):
    """Characteristic Capturing VAEs (Joy et al., ICLR 2021) in Pyro.

    Train with `fit`, generate with chosen labels with `sample`, measure with `evaluate`,
    compare with the paper's baselines with `compare`, and turn real data sets into the
    project's HDF5 format with `data prepare`. Explore a run in the browser with `explore`.
    """
    if ctx.invoked_subcommand != "fit" and launched_rank() > 0:
        ctx.exit(0)  # under torchrun, commands other than fit run on rank 0 alone, which reports


cli.add_command(fit.fit)
cli.add_command(sample.sample)
cli.add_command(evaluate.evaluate)
cli.add_command(compare.compare_command)
cli.add_command(data.data)
cli.add_command(bench.bench)
cli.add_command(manipulate.intervene_command)
cli.add_command(manipulate.traverse_command)
cli.add_command(manipulate.interpolate_command)
cli.add_command(manipulate.swap_command)
cli.add_command(manipulate.diversity_command)
cli.add_command(oracle.oracle)
cli.add_command(explore.explore)
cli.add_command(latent_analysis.probe)
cli.add_command(latent_analysis.frankenstein)
