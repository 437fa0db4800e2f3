"""The `pyro-ccvae` console script: Ctrl-C while the libraries load is one line and exit 130,
and a Ctrl-C once the command is done cannot turn its exit status into a kill by SIGINT."""

import os
import signal
import sys


def main() -> None:
    try:
        from .main import cli
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted (Ctrl-C) while starting\n")
        sys.stderr.flush()
        # Not sys.exit: when the interrupt landed in code run by exec() of a string (dataclasses
        # makes each __init__ so while torch loads), CPython 3.11 has recorded it as unhandled
        # and would end the process by SIGINT (exit -2), caught or not.
        os._exit(130)
    try:
        cli(prog_name="pyro-ccvae")
    finally:
        # Python's shutdown (torch's takes about a second) restores SIGINT's default action,
        # so a Ctrl-C then would kill the process; ignored signals are left as they are.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
