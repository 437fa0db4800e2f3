"""Every error the library raises on purpose, in one place.

Each says what is wrong in the library's own terms. Two families tell a front end what to do:

- `InvalidRequest`: what was asked cannot be done (an unknown label, data set or model, an
  impossible value or device, a run folder that is taken or does not fit); fixed by asking
  differently.
- everything else (`DatasetError`, `CheckpointError`, `NonFiniteLoss`, `Interrupted`,
  `ProcessLost`, `PeerFailed`): a file that is missing, unreadable or corrupt, or a run that
  failed or was stopped.

An error whose fix is a change of one setting names it in `setting` (a parameter of the
library function or config that raised it, such as "sup_fraction" or "replace"), with any
numbers a hint needs in `facts`; `problem` is the message without the library's own advice,
so that a front end can put its own words (its flag names) in place of that advice.
"""

from __future__ import annotations

import signal


class CCVAEError(Exception):
    """Base of the library's errors: `str(e)` is the problem and, where one exists, the remedy."""

    def __init__(self, problem: str, remedy: str = "", setting: str | None = None, **facts):
        self.problem, self.remedy, self.setting, self.facts = problem, remedy, setting, facts
        super().__init__(f"{problem}; {remedy}" if remedy else problem)


class InvalidRequest(CCVAEError):
    """A request that cannot be carried out as asked."""


# Labels, data and models ------------------------------------------------------------------


class LabelError(InvalidRequest, ValueError):
    """An unknown label, a label value its kind cannot take, or an impossible assignment."""


class DatasetError(CCVAEError):
    """A data file that is missing, unreadable, or not in the project's format."""


class UnknownDataset(DatasetError, InvalidRequest):
    """A data set name that is neither built in, nor prepared, nor the path of a file."""


class UnknownModel(InvalidRequest, ValueError):
    """A model name that is not in the registry (or an unknown classical classifier)."""


class NotSupported(InvalidRequest, ValueError):
    """A manipulation or measure that the model cannot do."""


class DeviceError(InvalidRequest, RuntimeError):
    """A device that does not exist on this machine, or a name torch does not know."""


# Uploaded images (the explorer) -------------------------------------------------------------


class UploadError(InvalidRequest):
    """An uploaded image that cannot be used: not an image, or an image that cannot be decoded."""


class UnsupportedImage(UploadError):
    """An uploaded file of a type that is not accepted (only common image formats are)."""


class UploadTooLarge(UploadError):
    """An uploaded file over the size limit, or an image with too many pixels."""


# Run folders and oracles -------------------------------------------------------------------


class CheckpointError(CCVAEError):
    """A run folder that is missing, incomplete or unreadable."""


class RunExists(CheckpointError, InvalidRequest):
    """A new run asked for in a folder that already holds one."""


class RunMismatch(CheckpointError, InvalidRequest):
    """A run that does not fit what was asked of it: other data, other labels, fewer epochs."""


class OracleError(CheckpointError):
    """An oracle folder that is missing or unreadable."""


class OracleMismatch(OracleError, RunMismatch):
    """An oracle that cannot score a model: trained on other labels or another image shape."""


class WeightsFileError(CheckpointError):
    """A file of a pre-trained network's weights (Inception-v3 for FID) that is missing or holds
    other weights."""


# Training ------------------------------------------------------------------------------------


class NonFiniteLoss(CCVAEError):
    """A NaN or infinite loss or parameter; the last good checkpoint was left as it was."""

    def __init__(self, step: int, last_good, checkpoint_path, note: str = ""):
        self.step, self.last_good = step, last_good
        super().__init__(
            f"the loss became NaN or infinite at step {step}; the last good checkpoint, at {last_good}, "
            f"is kept in {checkpoint_path}{note}"
        )


class Interrupted(CCVAEError):
    """Training stopped by a signal, after writing a checkpoint to resume from."""

    def __init__(self, signum: int, position, run_dir):
        self.signum, self.position, self.run_dir = signum, position, run_dir
        super().__init__(
            f"interrupted by {signal.Signals(signum).name} at {position}; checkpoint saved in {run_dir}",
            remedy="resume_run continues it",
            setting="resume",
            run_dir=run_dir,
        )


# Data-parallel runs (training/distributed.py) ---------------------------------------------


class ProcessLost(CCVAEError):
    """A process of a data-parallel run found that another one stopped or died: an exchange
    with it failed. The run's last checkpoint, if it has one, is kept."""

    def __init__(self, rank: int, size: int, cause: str, last_good=None, run_dir=None):
        self.rank, self.size = rank, size
        problem = f"process {rank} of {size}: another process of the run stopped or died ({cause})"
        if run_dir is None:
            super().__init__(problem)
        else:
            super().__init__(
                f"{problem}; the last checkpoint, at {last_good}, is kept in {run_dir}",
                remedy="resume_run continues it, with any number of processes",
                setting="resume",
                run_dir=run_dir,
            )


class PeerFailed(CCVAEError):
    """Another process of a data-parallel run failed while the run was being set up (each
    process reads the data and builds the model); its error is given."""

    def __init__(self, rank: int, size: int, error: str):
        self.rank, self.size = rank, size
        super().__init__(f"process {rank} of {size} failed: {error}")
