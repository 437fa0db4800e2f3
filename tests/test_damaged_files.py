"""Damaged data files never crash, hang or exhaust the process: one byte of a small valid file
is set to 0xFF in each structural region (superblock, object headers, attributes, string
storage, chunk index, chunk data), for a file of this version's format (checksummed) and one of
format 1 (written as earlier versions did, unchecked), and `data info` and `fit` run on each in
a subprocess with a memory limit and a timeout: no death by signal, no hang, memory within a
few hundred MB of an undamaged run, and every failure one line with exit code 1."""

import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py
import pytest

from pyro_ccvae.datasets import write_dataset
from pyro_ccvae.datasets.h5format import read_dataset
from pyro_ccvae.datasets.synthfaces import generate_synthfaces

ADDRESS_SPACE = 6 << 30  # the child's limit (torch maps a few GB of address space on import)
EXTRA_MEMORY_MB = 400  # resident memory a damaged file may cost beyond an undamaged run
TIMEOUT = 120  # seconds for both commands on one file

# One child runs both commands (one start-up of torch instead of two), each through click's
# runner so that a Python exception would show as a traceback in the report.
HARNESS = textwrap.dedent("""
    import json, sys, tempfile
    from click.testing import CliRunner
    from pyro_ccvae_cli.main import cli
    path, report = sys.argv[1], {}
    fit = ["fit", "--dataset", path, "--epochs", "1", "--batch-size", "8", "--z-s-dim", "2",
           "--classifier-samples", "2", "--device", "cpu", "--out", tempfile.mkdtemp() + "/run"]
    for name, args in (("info", ["data", "info", path]), ("fit", fit)):
        result = CliRunner().invoke(cli, args)
        traceback = result.exception is not None and not isinstance(result.exception, SystemExit)
        report[name] = {"code": result.exit_code, "output": result.output, "traceback": traceback}
    print(json.dumps(report))
""")


def format_1_file(path: Path, data) -> None:
    """The data set as earlier versions wrote it: HDF5's oldest format, variable-length strings,
    no checksums."""
    strings = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=data.images, chunks=(8, *data.image_shape))
        f.create_dataset("labels", data=data.labels)
        f.create_dataset("label_names", data=list(data.label_names), dtype=strings)
        f.create_dataset("label_kinds", data=list(data.label_kinds), dtype=strings)
        f.create_dataset("split", data=data.split)
        f.attrs["format_version"] = 1
        f.attrs["name"] = "tiny"
        f.attrs["description"] = "a small file in the format of earlier versions"
        f.attrs["default_labels"] = json.dumps(list(data.label_names))
        f.attrs["label_classes"] = "{}"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("damaged")
    data = generate_synthfaces(300, seed=0, size=8)  # more than one chunk of images: a chunk index
    data = type(data)(images=data.images, labels=data.labels[:, :3], label_names=data.label_names[:3],
                      split=data.split, name="tiny")  # fmt: skip
    write_dataset(folder / "format2.h5", data)
    format_1_file(folder / "format1.h5", data)
    return folder


def regions(path: Path) -> dict[str, int]:
    """A byte offset inside each structural region of the file."""
    raw = path.read_bytes()
    base = raw.index(b"\x89HDF\r\n\x1a\n")  # HDF5 addresses count from the superblock
    found = {"superblock": base + 12}
    with h5py.File(path, "r") as f:
        for name in ("/", "images", "label_names"):
            found[f"object header of {name}"] = base + h5py.h5o.get_info(f[name].id).addr + 20
        for attribute in ("description", "default_labels"):
            found[f"attribute {attribute}"] = raw.index(attribute.encode()) + len(attribute) + 12
        found["chunk data of images"] = f["images"].id.get_chunk_info(0).byte_offset + 100  # a file offset
        if f["label_names"].chunks:  # format 2: fixed-length strings in a checksummed chunk
            found["string storage"] = f["label_names"].id.get_chunk_info(0).byte_offset + 2
    if b"GCOL" in raw:  # format 1: variable-length strings in a global heap
        found["string storage"] = raw.index(b"GCOL") + 24
    index = next(raw.index(s) for s in (b"TREE", b"FAHD", b"EAHD", b"BTHD") if s in raw)
    found["chunk index"] = index + 10
    return found


def damaged_copy(source: Path, offset: int, out: Path) -> Path:
    raw = bytearray(source.read_bytes())
    raw[offset] = 0xFF if raw[offset] != 0xFF else 0x00
    out.write_bytes(bytes(raw))
    return out


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_both(path: Path) -> dict:
    """The two commands on `path` in a limited child: their report, its exit status and peak memory."""
    child = subprocess.Popen([sys.executable, "-c", HARNESS, str(path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, preexec_fn=limit_memory)  # fmt: skip
    started = time.monotonic()
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > TIMEOUT:
            child.kill()
            os.wait4(child.pid, 0)
            return {"status": "hang"}
        time.sleep(0.05)
    code = os.waitstatus_to_exitcode(status)
    out = child.stdout.read().decode()
    report = json.loads(out.strip().splitlines()[-1]) if code == 0 and out.strip() else {}
    return {"status": code, "memory_mb": usage.ru_maxrss / 1024, "report": report, "stderr": child.stderr.read().decode()}


@pytest.mark.parametrize("name", ["format2.h5", "format1.h5"])
def test_a_damaged_byte_in_any_region_is_a_one_line_error(files, name, tmp_path):
    source = files / name
    read_dataset(source)  # the undamaged file is fine
    baseline = run_both(source)
    assert baseline["status"] == 0 and all(r["code"] == 0 for r in baseline["report"].values()), baseline
    places = regions(source)
    assert len(places) >= 8
    damaged = {region: damaged_copy(source, offset, tmp_path / f"{i}.h5") for i, (region, offset) in enumerate(places.items())}
    with ThreadPoolExecutor(2) as pool:
        outcomes = dict(zip(damaged, pool.map(run_both, damaged.values())))
    detected = 0
    for region, outcome in outcomes.items():
        assert outcome["status"] == 0, f"{name}, {region}: the child died ({outcome})"  # no signal, no hang
        assert outcome["memory_mb"] < baseline["memory_mb"] + EXTRA_MEMORY_MB, (name, region, outcome["memory_mb"])
        for command, result in outcome["report"].items():
            assert not result["traceback"] and "Traceback" not in result["output"], (name, region, command, result)
            if result["code"] != 0:
                errors = [line for line in result["output"].splitlines() if line.startswith("Error: ")]
                assert result["code"] == 1 and len(errors) == 1, (name, region, command, result)
        detected += all(result["code"] == 1 for result in outcome["report"].values())
    if name == "format2.h5":  # every region is checksummed: both commands find every damage
        assert detected == len(outcomes), {r: [c["code"] for c in o["report"].values()] for r, o in outcomes.items()}
