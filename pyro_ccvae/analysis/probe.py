"""Probes: how well a label can be read from latents (poster 000, "Latent space analysis").

A probe is a scikit-learn model fitted on training rows (latents -> a label) and scored on
held-out rows with the label's own measure (`Label.measure`: accuracy for a discrete label,
R^2 and MAE for a continuous one), beside the baseline that ignores the latents (the training
rows' majority class, or their mean):

    linear:  logistic regression (discrete) or least squares (continuous), on standardised latents;
    boosted: a gradient-boosted tree ensemble (scikit-learn's HistGradientBoosting classifier or
             regressor), which also reads non-linear codes.

`latent_label_correlations` gives the poster's Corr(z_\\c[k], y_l) for every latent dimension
and label column. Everything here works on arrays; `latent_analysis.py` runs a model to get them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.kinds import Label

PROBES = {
    "linear": "logistic regression (discrete labels) or least squares (continuous), standardised latents",
    "boosted": "gradient-boosted trees (scikit-learn HistGradientBoosting classifier or regressor)",
}


def probe_estimator(probe: str, discrete: bool, seed: int = 0):
    """An unfitted scikit-learn estimator for a probe of PROBES on a discrete or continuous label."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if probe == "linear":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000) if discrete else LinearRegression())
    if probe == "boosted":
        return (HistGradientBoostingClassifier if discrete else HistGradientBoostingRegressor)(random_state=seed)
    raise ValueError(f"unknown probe {probe!r}; valid probes: {', '.join(PROBES)}")


def baseline_prediction(label: Label, y_train: np.ndarray, count: int) -> np.ndarray:
    """What a probe that ignores the latents predicts for `count` rows: the majority class of the
    training values of a discrete label, their mean for a continuous one."""
    if label.discrete:
        values, counts = np.unique(y_train, return_counts=True)
        return np.full(count, values[np.argmax(counts)])
    return np.full(count, float(np.mean(y_train)))


def probe_label(
    label: Label,
    z_train: np.ndarray,
    y_train: np.ndarray,
    z_test: np.ndarray,
    y_test: np.ndarray,
    probes: Sequence[str] = tuple(PROBES),
    seed: int = 0,
) -> dict:
    """{"baseline": measure, probe: measure for each probe}, each measure `label.measure` of the
    predictions on the test rows; latents z [N, D], label values y [N] (NaN rows skipped). A
    discrete label with one class among the training rows gets the baseline for every probe."""
    z_train, z_test = np.asarray(z_train, np.float64), np.asarray(z_test, np.float64)
    y_train, y_test = np.asarray(y_train, np.float64), np.asarray(y_test, np.float64)
    train, test = ~np.isnan(y_train), ~np.isnan(y_test)
    z_train, y_train, z_test, y_test = z_train[train], y_train[train], z_test[test], y_test[test]
    if not len(y_train):
        raise ValueError(f"label {label.name} has no value in the training rows")
    baseline = baseline_prediction(label, y_train, len(y_test))
    result = {"baseline": label.measure(baseline, y_test)}
    single_class = label.discrete and np.unique(y_train).size < 2
    for probe in probes:
        if single_class or not len(y_test):
            result[probe] = label.measure(baseline, y_test)
            continue
        estimator = probe_estimator(probe, label.discrete, seed).fit(z_train, y_train)
        result[probe] = label.measure(estimator.predict(z_test).astype(np.float64), y_test)
    return result


def main_score(measure: dict) -> float:
    """The one number of a measure that a table shows: accuracy, else R^2."""
    return measure["accuracy"] if "accuracy" in measure else measure["r2"]


def label_columns(labels: Sequence[Label], values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Numeric columns for correlations, from label values [N, L]: a label with more than two
    classes gives one 0/1 column per class ("Hair=blond"), any other label its values. NaN
    stays NaN."""
    names, columns = [], []
    for i, label in enumerate(labels):
        column = np.asarray(values[:, i], np.float64)
        if label.discrete and label.num_classes() > 2:
            for k in range(label.num_classes()):
                names.append(f"{label.name}={label.format(k)}")
                columns.append(np.where(np.isnan(column), np.nan, (column == k).astype(np.float64)))
        else:
            names.append(label.name)
            columns.append(column)
    return names, np.stack(columns, axis=1)


def latent_label_correlations(z: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Pearson Corr(z[:, k], columns[:, l]) [K, C] over the rows where column l is known; 0
    where either is constant."""
    z, columns = np.asarray(z, np.float64), np.asarray(columns, np.float64)
    out = np.zeros((z.shape[1], columns.shape[1]))
    for c in range(columns.shape[1]):
        rows = ~np.isnan(columns[:, c])
        zc = z[rows] - z[rows].mean(0)
        yc = columns[rows, c] - columns[rows, c].mean()
        scale = np.sqrt((zc**2).sum(0) * (yc**2).sum())
        out[:, c] = np.divide(zc.T @ yc, scale, out=np.zeros(z.shape[1]), where=scale > 0)
    return out
