"""The `pyro-ccvae` console script: Ctrl-C while the libraries load is one line and exit 130,
and no Ctrl-C turns a command's exit status into a kill by SIGINT (exit -2)."""

import os
import signal
import sys

INTERRUPTED = 130  # what every command exits with after Ctrl-C (errors.user_errors)


def main() -> None:
    try:
        from .main import cli
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted (Ctrl-C) while starting\n")
        _exit_at_once(INTERRUPTED)
    try:
        cli(prog_name="pyro-ccvae")
    except SystemExit as e:
        if e.code == INTERRUPTED:
            _exit_at_once(INTERRUPTED)
        raise
    finally:
        # Python's teardown (about a second with torch loaded) gives SIGINT its default action
        # back, so a Ctrl-C then would kill the finished command; ignored signals stay ignored.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _exit_at_once(code: int) -> None:
    """Exits with `code` without Python's teardown. When a Ctrl-C landed in code run by exec()
    of a string (dataclasses makes each __init__ so, hundreds while torch loads), CPython 3.11
    records the interrupt as unhandled, caught or not, and ends its teardown by SIGINT instead."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
