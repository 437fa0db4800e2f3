"""The one mapping from library errors to messages and exit codes.

Every error is one line on stderr, "Error: ...", never a traceback. Exit codes:

- 2, usage mistakes, fixed by changing the command (the library's `InvalidRequest`): an
  unknown label or label value, an unknown data set or model name, an impossible option or
  device (such as --device cuda without CUDA), an output folder that already holds a run, a
  run that does not fit the data or the command (other labels or image shape, fewer epochs
  than done), a manipulation the run's model cannot do (such as a traversal for M2). click's
  own checks of options (such as --sup outside (0, 1]) exit 2 too.
- 1, runtime failures: a missing, unreadable or corrupt file (data, image, run folder,
  checkpoint), a NaN or infinite loss, a failed write.
- 128 + the signal number (130 for SIGINT, 143 for SIGTERM): training stopped by a signal
  after saving a checkpoint it can resume from; or Ctrl-C during start-up, before anything was
  written.

The library says what is wrong in its own terms and names the setting that fixes it; HINTS
turns that setting into this command line's words.
"""

from __future__ import annotations

import contextlib

import click

from pyro_ccvae.errors import CCVAEError, Interrupted, InvalidRequest, ProcessLost

# The library's setting (errors.CCVAEError.setting) -> what to do about it on the command line.
HINTS = {
    "replace": "choose another --out, or pass --force to replace it",
    "sup_fraction": "raise --sup",
    "epochs": "pass --epochs N with N > {done}",
    "device": "use --device cpu",
    "labels": "choose labels with --labels",
    "prepare": "put them there, pass --source DIR (the folder holding them), or run "
    "`pyro-ccvae data prepare {name} --source DIR --out {path}`",
    "run_dir": "train one with `pyro-ccvae fit`",
    "latest_run": "train one with `pyro-ccvae fit`, or pass --run DIR",
    "oracle_dir": "train one with `pyro-ccvae oracle fit`",
    "inception_weights": "pass --inception-weights with torchvision's or pytorch-fid's Inception-v3 weights file",
    "resume": "resume with: pyro-ccvae fit --resume {run_dir}",
    "run_data": "pass --dataset FILE (evaluate and the manipulations) or --data-dir DIR (fit --resume)",
    "port": "choose another --port (0: any free port)",
}


def message(error: Exception) -> str:
    """The error's one line: the library's problem and this command line's hint for it."""
    if isinstance(error, CCVAEError) and error.setting in HINTS:
        return f"{error.problem}; {HINTS[error.setting].format(**error.facts)}"
    return str(error)


def _error(text: str, exit_code: int, quiet: bool = False) -> click.ClickException | click.exceptions.Exit:
    if quiet:
        return click.exceptions.Exit(exit_code)
    error = click.ClickException(text)
    error.exit_code = exit_code
    return error


INTERRUPTED = "interrupted (Ctrl-C)"


@contextlib.contextmanager
def user_errors(interrupted: str = INTERRUPTED, quiet: bool = False):
    """Turns the library's errors (and OSError) into one-line click errors with their exit
    codes, and Ctrl-C into the one line `interrupted` (exit 130).

    `quiet`: a process of a data-parallel run other than rank 0, which reports for all (the
    processes stop together, and share their set-up errors): it exits with the code but says
    nothing, unless it found another process gone (ProcessLost), which rank 0 may have been."""
    try:
        yield
    except KeyboardInterrupt:
        raise _error(interrupted, 130, quiet) from None
    except Interrupted as e:
        raise _error(message(e), 128 + e.signum, quiet) from e
    except InvalidRequest as e:
        raise _error(message(e), 2, quiet) from e
    except ProcessLost as e:
        raise _error(message(e), 1) from e
    except (CCVAEError, OSError) as e:
        raise _error(message(e), 1, quiet) from e
