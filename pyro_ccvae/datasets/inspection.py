"""Reading a data file in a child process limited in memory and time, before this process
touches it with the HDF5 library: a damaged file of format 1 (or from another writer) can make
libhdf5 crash (a segmentation fault), loop forever or allocate gigabytes, and none of that may
happen to the process a user is working in.

This file is also the child's program (`python inspection.py PATH`): it imports only h5py and
numpy, opens the file, reads every attribute, every string and every dataset (large ones in
slices of bounded size), and exits 0 if all went well, 3 with the error on stderr if the HDF5
library raised one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MEMORY_LIMIT = 1 << 30  # bytes of address space the child may map
SLICE_BYTES = 32 << 20  # at most this much of a dataset is read at once
BASE_SECONDS = 30.0  # the child's time limit: this, plus the file's size at READ_RATE
READ_RATE = 20e6  # bytes per second
READ_ERROR = 3  # the child's exit code when the HDF5 library raised an error


def inspect_in_child(path: Path) -> None:
    """DatasetError saying what happened unless a child process reads all of `path` cleanly
    within MEMORY_LIMIT and its time limit."""
    from ..errors import DatasetError

    seconds = BASE_SECONDS + Path(path).stat().st_size / READ_RATE
    try:
        child = subprocess.run(
            [sys.executable, "-I", __file__, str(path)], capture_output=True, text=True, timeout=seconds
        )
    except subprocess.TimeoutExpired:
        raise DatasetError(
            f"cannot read {path}: it is damaged (the HDF5 library did not finish reading it within {seconds:.0f} s)",
            remedy="restore the file from its source, or prepare it again",
        ) from None
    if child.returncode == 0:
        return
    if child.returncode < 0:
        what = f"the HDF5 library crashed reading it, signal {-child.returncode}"
    elif child.returncode == READ_ERROR:
        what = child.stderr.strip().splitlines()[-1] if child.stderr.strip() else "no reason given"
    else:
        what = f"reading it failed with exit code {child.returncode}; it may need more than {MEMORY_LIMIT >> 20} MB"
    raise DatasetError(f"cannot read {path}: it is damaged or not an HDF5 data file ({what})",
                       remedy="restore the file from its source, or prepare it again")  # fmt: skip


def _read_everything(path: str) -> None:
    """The child's work: touch every byte the library would."""
    import h5py
    import numpy as np

    def read(name, obj):
        for _ in obj.attrs.values():
            pass
        if isinstance(obj, h5py.Dataset):
            if obj.dtype.kind in "OSU" or obj.ndim == 0:
                obj[()]
                return
            row_bytes = max(1, int(np.prod(obj.shape[1:], dtype=np.int64)) * obj.dtype.itemsize)
            step = max(1, SLICE_BYTES // row_bytes)
            for start in range(0, obj.shape[0], step):
                obj[start : start + step]

    with h5py.File(path, "r") as f:
        read("/", f)
        f.visititems(read)


if __name__ == "__main__":
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    try:
        _read_everything(sys.argv[1])
    except MemoryError:
        print("it asked for more memory than any data file of its size needs", file=sys.stderr)
        sys.exit(READ_ERROR)
    except Exception as e:  # whatever h5py raises for a damaged file
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(READ_ERROR)
