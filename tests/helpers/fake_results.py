"""A results/ folder with the shape every study's stage writes, filled with accuracies
whose true differences are chosen here: what the claims stage reads, without training.

`write(cfg, root)` writes it for a configuration (book or smoke); the arms' true effects
are the constants below, so a test knows which verdict each claim must reach."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from layerwise.studies.greedy.labels import (
    CONTROL,
    FINE_TUNED,
    GREEDY,
    PRETRAINED_FROZEN,
    PRETRAINED_TUNED,
    SCRATCH,
)

N = 20  # replicas / repeats of every arm
SD = 0.005  # their spread: small enough that a 0.03 effect is unmistakable
BASE = 0.80

# true effects (A minus B), by the claim they decide
GREEDY_GAIN = 0.03  # greedy over end-to-end at every depth: holds
DEPTH_GAIN = 0.0  # deeper greedy over the base, same replicas: inconclusive
FINE_TUNE_GAIN = -0.03  # fine-tuning hurts: reverses
TRANSFER = {"fixed_0": 0.03, "fixed_1": 0.0, "fixed_2": -0.03}  # others: 0.0
ENSEMBLE_GAIN = 0.03  # an ensemble over its members: holds


def _noise(rng, n=N):
    return rng.normal(0, SD, n)


def _csv(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def _json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def _rows(rng, depths, methods_gain, **fixed):
    """One row per (method, depth, replica): accuracy = BASE + gain + noise."""
    frames = []
    for method, gain in methods_gain.items():
        for depth in depths:
            frames.append(
                pd.DataFrame(
                    {
                        **fixed,
                        "method": method,
                        "depth": depth,
                        "replica": np.arange(N),
                        "test_accuracy": BASE + gain + _noise(rng),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def write(cfg, root: Path) -> Path:
    """results/ under `root` for `cfg`; returns the results folder."""
    rng = np.random.default_rng(0)
    results = root / "results"
    _csv(
        results / "baseline" / "replicas.csv",
        pd.DataFrame(
            {
                "replica": np.arange(N),
                "train_accuracy": 0.816 + _noise(rng),
                "test_accuracy": 0.830 + _noise(rng),
            }
        ),
    )
    g = cfg.greedy
    depths = list(range(2, 3 + g.supervised.additions))
    shared = BASE + _noise(rng)  # the same replicas at every depth: paired
    frames = []
    for d in depths:
        frames.append(
            pd.DataFrame(
                {
                    "method": GREEDY,
                    "depth": d,
                    "replica": np.arange(N),
                    "test_accuracy": shared + DEPTH_GAIN * (d - 2) + rng.normal(0, 1e-4, N),
                }
            )
        )
    frames.append(_rows(rng, depths, {CONTROL: -GREEDY_GAIN}))
    frames.append(
        pd.DataFrame(
            {
                "method": FINE_TUNED,
                "depth": depths[-1],
                "replica": np.arange(N),
                "test_accuracy": frames[len(depths) - 1]["test_accuracy"].to_numpy()
                + FINE_TUNE_GAIN
                + rng.normal(0, 1e-3, N),
            }
        )
    )
    _csv(results / "greedy_supervised" / "replicas.csv", pd.concat(frames, ignore_index=True))
    _csv(
        results / "greedy_unsupervised" / "replicas.csv",
        _rows(rng, range(2, 3 + g.unsupervised.additions), {"autoencoder": 0.0}),
    )
    if g.activations.enabled:
        acts = [
            _rows(
                rng,
                range(2, 3 + g.activations.additions),
                {GREEDY: 0.0, CONTROL: 0.0},
                activation=name,
            )
            for name in g.activations.names
        ]
        _csv(results / "greedy_activations" / "replicas.csv", pd.concat(acts, ignore_index=True))
    _json(results / "greedy_activations" / "metrics.json", {"enabled": g.activations.enabled})
    _csv(
        results / "greedy_depth" / "replicas.csv",
        pd.concat(
            pd.DataFrame(
                {
                    "setting": setting,
                    "replica": np.arange(N),
                    "test_accuracy": BASE + _noise(rng),
                    "base_test_accuracy": BASE + _noise(rng),
                }
            )
            for setting in ("validation", "subsample")
        ),
    )
    _json(results / "greedy_depth" / "metrics.json", {"enabled": g.depth_selection.enabled})
    for dataset in g.few_labels.datasets:
        frames = [
            _rows(
                rng,
                [3],
                {PRETRAINED_FROZEN: 0.0, PRETRAINED_TUNED: 0.0, SCRATCH: 0.0},
                n_labelled=n or 500,
            )
            for n in g.few_labels.n_labelled
        ]
        _csv(
            results / "greedy_few_labels" / dataset / "replicas.csv",
            pd.concat(frames, ignore_index=True),
        )

    t = cfg.transfer
    frames = []
    for case in t.cases:
        starts = [("none", "standalone")] + [
            (p, a) for p in t.protocols for a in t.arm_names() if a != "standalone"
        ]
        for protocol, arm in starts:
            frames.append(
                pd.DataFrame(
                    {
                        "case": case,
                        "protocol": protocol,
                        "arm": arm,
                        "repeat": np.arange(N),
                        "test_accuracy": BASE + TRANSFER.get(arm, 0.0) + _noise(rng),
                    }
                )
            )
    _csv(results / "transfer" / "replicas.csv", pd.concat(frames, ignore_index=True))

    arms = {
        "model_averaging": "average_5",
        "weighted_average": "de_validation",
        "resampling": "bagging",
        "horizontal_voting": "last_50",
        "snapshot": "snapshots_10",
        "stacking": "network_validation",
        "weight_averaging": "exponential_10",
    }
    for method, key in arms.items():
        folder = results / "ensembles" / method
        singles = BASE + _noise(rng)
        _json(folder / "summary.json", {"arms": {"single": {"label": "one"}, key: {"label": key}}})
        _csv(
            folder / "members.csv",
            pd.DataFrame(
                {
                    "sweep": "averaging",
                    "repeat": np.arange(N),
                    "size": 1,
                    "single_accuracy": singles,
                }
            ),
        )
        _csv(
            folder / "repeats.csv",
            pd.DataFrame(
                {
                    "key": key,
                    "repeat": np.arange(N),
                    "test_accuracy": singles + ENSEMBLE_GAIN + rng.normal(0, 1e-3, N),
                }
            ),
        )
    compare = {"single_member": -0.05, "single_model": 0.0, "averaging": 0.02, "bagging": 0.0}
    folder = results / "ensemble_compare"
    _json(
        folder / "summary.json",
        {
            "arms": {
                k: {"label": k, "group": "reference" if k.startswith("single") else "members"}
                for k in compare
            }
        },
    )
    _csv(
        folder / "repeats.csv",
        pd.concat(
            pd.DataFrame(
                {"key": k, "repeat": np.arange(N), "test_accuracy": BASE + gain + _noise(rng)}
            )
            for k, gain in compare.items()
        ),
    )
    return results
