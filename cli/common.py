"""What the commands share: the one mapping from library errors to messages and exit codes.

Every error is one line on stderr, "Error: ...", never a traceback. Exit codes:

- 2, usage mistakes, fixed by changing the command: an unknown label or label value, an
  unknown data set or model name, an impossible option or device (such as --device cuda
  without CUDA), an output folder that already holds a run, a run that does not fit the data
  or the command (other labels or image shape, fewer epochs than done), a manipulation the
  run's model cannot do (such as a traversal for M2). click's own checks of options (such as
  --sup outside (0, 1]) exit 2 too.
- 1, runtime failures: a missing, unreadable or corrupt file (data, image, run folder,
  checkpoint), a NaN or infinite loss, a failed write.
- 128 + the signal number (130 for SIGINT, 143 for SIGTERM): training stopped by a signal
  after saving a checkpoint it can resume from.
"""

from __future__ import annotations

import contextlib

import click

from pyro_ccvae.checkpoint import CheckpointError, RunExists, RunMismatch
from pyro_ccvae.datasets import DatasetError, UnknownDataset
from pyro_ccvae.devices import DeviceError
from pyro_ccvae.labels import LabelError
from pyro_ccvae.models import NotSupported, UnknownModel
from pyro_ccvae.train import Interrupted, NonFiniteLoss

USAGE_MISTAKES = (LabelError, UnknownDataset, UnknownModel, NotSupported, DeviceError, RunExists, RunMismatch)
RUNTIME_FAILURES = (DatasetError, CheckpointError, NonFiniteLoss, OSError)


def _error(message: str, exit_code: int) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = exit_code
    return error


@contextlib.contextmanager
def user_errors():
    """Turns the library errors above into one-line click errors with their exit codes."""
    try:
        yield
    except USAGE_MISTAKES as e:
        raise _error(str(e), 2) from e
    except RUNTIME_FAILURES as e:
        raise _error(str(e), 1) from e
    except Interrupted as e:
        raise _error(f"{e}; resume with: pyro-ccvae fit --resume {e.run_dir}", 128 + e.signum) from e


def device_option(function):
    return click.option(
        "--device",
        default="auto",
        show_default=True,
        help="Where to compute: auto (CUDA when available), cpu, or cuda.",
    )(function)
