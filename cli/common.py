"""What the commands share: turning library errors into one-line messages."""

from __future__ import annotations

import contextlib

import click

from pyro_ccvae.checkpoint import CheckpointError
from pyro_ccvae.datasets import DatasetError
from pyro_ccvae.labels import LabelError


@contextlib.contextmanager
def user_errors():
    """Library errors a user can fix become `click.ClickException` (one line, exit 1)."""
    try:
        yield
    except LabelError as e:
        raise click.UsageError(str(e)) from e
    except (DatasetError, CheckpointError) as e:
        raise click.ClickException(str(e)) from e


def device_option(function):
    return click.option(
        "--device",
        default="auto",
        show_default=True,
        help="Where to compute: auto (CUDA when available), cpu, or cuda.",
    )(function)
