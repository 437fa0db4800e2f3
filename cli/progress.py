"""Progress on stderr: training (a bar of steps and one line per epoch) and the one-off
preparation of a real data set from its official files."""

from __future__ import annotations

import sys
import time

import click
from tqdm import tqdm

from pyro_ccvae.datasets import resolve_dataset


def ensure_dataset(dataset: str, data_dir=None, source=None):
    """The data file of `dataset`, preparing a real data set from its official files first if
    needed (with `Preparation`'s line and bar)."""
    with Preparation() as preparation:
        return resolve_dataset(dataset, data_dir, source, **preparation.hooks())


class Preparation:
    """Hooks for `datasets.resolve_dataset`: a line saying what was found and where the prepared
    file goes, then a bar over the images written."""

    def __init__(self):
        self.bar = None

    def on_found(self, files, out):
        click.echo(f"found the official files in {files}: preparing them once into {out}", err=True)

    def progress(self, done, total):
        if self.bar is None:
            self.bar = tqdm(total=total, desc="preparing", unit="img", dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def hooks(self) -> dict:
        return {"progress": self.progress, "on_found": self.on_found}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


class Progress:
    """Training progress on stderr. In a terminal, a bar over each epoch's steps with their
    total and the time left; otherwise (a log file, a pipe) plain lines only: one per epoch and
    one every REPORT_EVERY seconds within a long epoch. Always one line per finished epoch."""

    REPORT_EVERY = 120.0  # seconds between lines within an epoch when stderr is not a terminal

    def __init__(self):
        self.bar = None
        self.terminal = sys.stderr.isatty()
        self.epoch_number, self.done, self.total, self.last_report = 0, 0, 0, 0.0

    def epoch_start(self, epoch: int, done: int, total: int):
        self.close()
        self.epoch_number, self.done, self.total = epoch, done, total
        self.last_report = time.monotonic()
        if self.terminal:
            self.bar = tqdm(total=total, initial=done, desc=f"epoch {epoch}", unit="step", leave=False, dynamic_ncols=True)

    def step(self, loss):
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            if self.done % 10 == 0:
                self.bar.set_postfix(loss=f"{loss.item():.1f}")
        elif time.monotonic() - self.last_report >= self.REPORT_EVERY:
            self.last_report = time.monotonic()
            click.echo(f"epoch {self.epoch_number}: step {self.done} of {self.total}, loss {loss.item():.2f} per image",
                       err=True)  # fmt: skip

    def epoch(self, metrics):
        self.close()
        scores = []
        if metrics["valid_accuracy"] is not None:
            scores.append(f"validation accuracy {metrics['valid_accuracy']:.3f}")
        scores += [f"{name} R^2 {r['r2']:.3f}" for name, r in metrics["valid_regression"].items()]
        click.echo(
            f"epoch {metrics['epoch']}: loss {metrics['loss']:.2f} per image, {', '.join(scores)} ({metrics['seconds']:.0f} s)",
            err=True,
        )

    def rollback(self, error, lr):
        self.note(f"NaN or infinite loss at step {error.step}: back to {error.last_good}, learning rate now {lr:g}")

    def note(self, text: str):
        """A line of its own, between bars."""
        self.close()
        click.echo(text, err=True)

    def hooks(self) -> dict:
        """The fit loop's callbacks (training.runs.train_new_run, resume_run)."""
        return dict(on_step=self.step, on_epoch=self.epoch, on_rollback=self.rollback, on_epoch_start=self.epoch_start)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
