"""What a process that torchrun started with others does around a command."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Callable

import click

from pyro_ccvae.training import distributed

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def torchrun_process():
    """Around a command of a process of a data-parallel run (nothing changes without one).

    Yields `during_training(stop)`: the fit loop's `stop` (loop.stop_signals), made to leave
    SIGINT and SIGTERM ignored once training is over, instead of as they were: torchrun sends
    SIGTERM to the other processes as soon as one has exited, and they must finish and exit with
    their own status. Before training the signals act as usual; during it the processes stop
    together (distributed.World.first_signal).

    Once the command is done and its message shown, the process exits at once with its status,
    without Python's teardown: after DistributedDataParallel, the gloo process group and its
    threads outlive `destroy_process_group`, and the teardown sometimes aborted ("terminate
    called without an active exception", in 2 of 15 runs of 2 processes here; none in 40 since).
    """
    if distributed.launched_size() == 1:
        yield lambda stop: stop
        return
    code = 0
    try:
        yield _ignoring_signals_after
    except click.exceptions.Exit as e:
        code = e.exit_code
    except click.ClickException as e:
        e.show()
        code = e.exit_code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _ignoring_signals_after(stop: Callable[[], int]) -> Callable[[], int]:
    first_call = [True]

    def ignore_then_stop() -> int:
        if first_call:
            first_call.clear()
            for signum in STOP_SIGNALS:  # what stop_signals, installing its handlers now, gives back at the end
                signal.signal(signum, signal.SIG_IGN)
        return stop()

    return ignore_then_stop
