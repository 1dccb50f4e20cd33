"""Greedy supervised pretraining (docs/studies.md#greedy-layer-wise-pretraining): start
from the baseline's fitted replicas; repeatedly insert a new hidden layer before the kept
output layer, freeze every earlier hidden layer and refit, scoring every depth.

Controls: the same architecture trained end to end from scratch with the epochs the
greedy network received in total, and fine-tuning of all layers at a smaller learning
rate after the last addition.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.engine import ReplicaMLP
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.models import make_optimizer
from layerwise.pipeline.progress import Progress
from layerwise.pipeline.seeds import seed_for
from layerwise.studies.greedy.common import (
    StudyResult,
    accuracies,
    control_model,
    depth_metrics,
    depth_table,
    fitter,
    grown,
    run_side_by_side,
    score_rows,
)
from layerwise.studies.greedy.labels import CONTROL, FINE_TUNED, GREEDY


def run(cfg: Config, data: Dataset, base: ReplicaMLP, progress: bool = True) -> StudyResult:
    """Greedy supervised layer addition from the fitted baseline, plus its controls."""
    g = cfg.greedy.supervised
    if g.additions < 0:  # the schema rejects it too; the function is also called directly
        raise UserError(f"greedy.supervised.additions = {g.additions} (allowed: >= 0)")
    if len(base.layers) < 2:
        raise UserError("greedy.supervised: the baseline has no hidden layer to grow from")
    hidden = base.layers[-2]
    steps = g.additions + (g.additions + 1 if g.control else 0) + int(g.fine_tune)
    step = Progress("greedy supervised rounds", steps, show=progress).advance

    fit = fitter(cfg, data, lambda k: g.epochs, g.batch_size, "greedy.supervised.fit")

    def greedy_rows() -> list[dict]:
        rows = []
        for model in grown(
            base, hidden, g.additions, fit, lambda k: seed_for(cfg.seed, "greedy.supervised.add", k)
        ):
            rows += score_rows(GREEDY, len(model.layers), accuracies(model, data))
            if model is not base:
                step()
        if g.fine_tune:
            tuned = model.select(np.arange(model.n_replicas))
            tuned.unfreeze()
            optimizer = make_optimizer(cfg.optimizer, learning_rate=g.fine_tune_learning_rate)
            fitter(
                cfg,
                data,
                lambda k: g.fine_tune_epochs,
                g.batch_size,
                "greedy.supervised.fine_tune",
                optimizer,
            )(tuned, 0)
            rows += score_rows(FINE_TUNED, len(tuned.layers), accuracies(tuned, data))
            step()
        return rows

    # the greedy network at depth d was trained for the baseline's epochs plus g.epochs
    # per added layer: the control gets that many epochs, all layers learning
    budget = fitter(
        cfg,
        data,
        lambda k: cfg.baseline.epochs + k * g.epochs,
        g.batch_size,
        "greedy.supervised.control.fit",
    )

    def control_rows(k: int) -> list[dict]:
        control = control_model(
            base.input_dim,
            base.layers,
            hidden,
            k,
            base.n_replicas,
            budget,
            lambda k: seed_for(cfg.seed, "greedy.supervised.control.init", k),
        )
        step()
        return score_rows(CONTROL, len(control.layers), accuracies(control, data))

    # the greedy sequence, and each control depth, are independent trainings: run them
    # side by side, the largest (deepest) first; rows are assembled in a fixed order
    # (costs: epochs x trainable layers)
    depth = len(base.layers)
    tasks = {
        "greedy": (
            g.additions * g.epochs * 2 + g.fine_tune * g.fine_tune_epochs * (depth + g.additions),
            greedy_rows,
        )
    }
    if g.control:
        for k in range(g.additions + 1):
            cost = (cfg.baseline.epochs + k * g.epochs) * (depth + k)
            tasks[k] = (cost, functools.partial(control_rows, k))
    results = run_side_by_side(tasks)
    rows = [row for key in tasks for row in results[key]]
    replicas = pd.DataFrame(rows)
    metrics = {"dataset": cfg.data.name, "n_replicas": base.n_replicas, **depth_metrics(replicas)}
    return StudyResult(replicas, depth_table(replicas), metrics)
