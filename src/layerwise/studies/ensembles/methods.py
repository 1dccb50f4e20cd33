"""The seven ensemble methods (docs/studies.md#ensembles), each repeated R times.

Every method trains its members as replicas of the engine (`members.py`: a method's R
repeats x M members are one replica batch where the members share a sample size),
computes the members' probabilities once, and hands the arrays to the combiners
(`combiners.py`, `stacking.py`). `run(cfg, method, datasets)` returns a MethodResult
(`results.py`) whose arms (one row each in the comparison table) carry, over repeats:
test accuracy, NLL, training cost in member-epochs, the best single member and the
members' diversity; the stage script writes it.

Combiners that are fitted (weights, meta-learners) are fitted on a validation split
and scored on test rows they never saw; the reference's way (fitted and scored on
the same test set) is reported beside them as an "optimistic" arm.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from layerwise.config import Config
from layerwise.config.ensembles import ENSEMBLE_METHODS
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.models import make_optimizer
from layerwise.pipeline.seeds import seed_for
from layerwise.pipeline.stats import summarize
from layerwise.studies.ensembles import combiners as comb
from layerwise.studies.ensembles.members import (
    checkpoint_model,
    kept_probs,
    members_with_validation,
    method_seed,
    per_repeat_rows,
    predict_in_chunks,
    snapshot_run,
    split_probs,
    train_members,
    validation_splits,
)
from layerwise.studies.ensembles.results import MethodResult, make_arm, sweep_frame
from layerwise.studies.ensembles.stacking import META_NAMES, integrated_head, meta_stack

METHODS = ENSEMBLE_METHODS


def model_averaging(cfg: Config, datasets: dict[str, Dataset], progress=True) -> MethodResult:
    sub = cfg.ensembles.model_averaging
    data = datasets[sub.dataset]
    R, M = sub.repeats, sub.n_members
    model, _ = train_members(
        sub,
        data.x_train,
        data.onehot(data.y_train),
        R * M,
        method_seed(cfg, "model_averaging", "members"),
        progress=progress,
    )
    probs = model.predict(data.x_test).reshape(R, M, len(data.y_test), -1)
    labels = np.broadcast_to(data.y_test, (R, len(data.y_test)))
    sweep = comb.size_sweep(probs, data.y_test)
    k = sub.ensemble_size
    singles = comb.accuracy(probs, data.y_test)  # [R, M]
    arms = [
        make_arm("single", "single model", probs[:, 0], labels, probs[:, :1], sub.epochs),
        make_arm(
            f"average_{k}",
            f"average of {k}",
            probs[:, :k].mean(axis=1),
            labels,
            probs[:, :k],
            k * sub.epochs,
        ),
        make_arm(
            f"average_{M}", f"average of {M}", probs.mean(axis=1), labels, probs, M * sub.epochs
        ),
    ]
    extra = {
        "single_all_members": summarize(singles, metric="single_accuracy"),
        "plateau_size": _plateau(sweep),
    }
    return MethodResult("model_averaging", arms, sweep_frame("averaging", sweep), extra)


def _plateau(sweep: dict, within: float = 0.005) -> int:
    """Smallest size whose mean ensemble accuracy is within `within` of the final size's."""
    mean = sweep["ensemble"].mean(axis=0)
    return int(np.argmax(mean >= mean[-1] - within) + 1)


def weighted_average(cfg: Config, datasets: dict[str, Dataset], progress=True) -> MethodResult:
    sub = cfg.ensembles.weighted_average
    data = datasets[sub.dataset]
    R, M, K = sub.repeats, sub.n_members, sub.n_weighted
    seed = method_seed(cfg, "weighted_average")
    splits, val_probs, val_labels, test_probs, test_labels = members_with_validation(
        sub, data, R, M, seed, progress
    )
    sweep = comb.size_sweep(test_probs, test_labels[:, None])
    head = test_probs[:, :K]
    cost = K * sub.epochs
    arms = [
        make_arm(
            f"average_{M}",
            f"average of {M}",
            test_probs.mean(axis=1),
            test_labels,
            test_probs,
            M * sub.epochs,
        ),
        make_arm(
            "equal", f"equal weights, {K} members", head.mean(axis=1), test_labels, head, cost
        ),
    ]
    fitters = {
        "grid": lambda p, y, r: comb.grid_search_weights(p, y, sub.grid_step)[0],
        "de": lambda p, y, r: comb.de_weights(
            p, y, maxiter=sub.de_maxiter, tol=sub.de_tol, seed=seed_for(seed, "de", r)
        )[0],
    }
    names = {"grid": "grid-search weights", "de": "differential-evolution weights"}
    chosen = {}
    for name, fit in fitters.items():
        for where, (fit_probs, fit_labels) in {
            "validation": (val_probs[:, :K], val_labels),
            "test": (head, test_labels),
        }.items():
            weights = np.stack([fit(fit_probs[r], fit_labels[r], r) for r in range(R)])
            chosen[f"{name}_{where}"] = weights
            combined = comb.average(head, weights)
            label = names[name] + (" (fit on test: optimistic)" if where == "test" else "")
            fitted = "validation" if where == "validation" else "test (optimistic)"
            arms.append(
                make_arm(f"{name}_{where}", label, combined, test_labels, head, cost, fitted)
            )
    extra = {
        "validation_rows": int(splits.val.shape[1]),
        "training_rows": int(splits.train.shape[1]),
        "weights": {k: v.mean(axis=0) for k, v in chosen.items()},
    }
    return MethodResult("weighted_average", arms, sweep_frame("averaging", sweep), extra)


def resampling_samples(n_rows: int, sub, repeats: int, seed: int) -> dict[str, list]:
    """Per scheme, per repeat x member: (training rows, held-out rows)."""
    rng = np.random.default_rng(seed)
    n_test = int(round(n_rows * sub.split_test_fraction))
    samples = {"random_splits": [], "cv": [], "bagging": []}
    for r in range(repeats):
        for _ in range(sub.n_members):
            order = rng.permutation(n_rows)
            samples["random_splits"].append((np.sort(order[n_test:]), np.sort(order[:n_test])))
            drawn = rng.integers(0, n_rows, sub.bootstrap_size)
            samples["bagging"].append((drawn, np.setdiff1d(np.arange(n_rows), drawn)))
        folds = KFold(n_splits=sub.n_members, shuffle=True, random_state=seed_for(seed, "cv", r))
        samples["cv"] += list(folds.split(np.arange(n_rows)))
    return samples


SCHEME_LABELS = {"random_splits": "random splits", "cv": "k-fold CV", "bagging": "bagging"}


def resampling(cfg: Config, datasets: dict[str, Dataset], progress=True) -> MethodResult:
    sub = cfg.ensembles.resampling
    data, single_data = datasets[sub.dataset], datasets[sub.single_dataset]
    R, M = sub.repeats, sub.n_members
    seed = method_seed(cfg, "resampling")
    single, _ = train_members(
        sub,
        single_data.x_train,
        single_data.onehot(single_data.y_train),
        R,
        seed_for(seed, "single"),
        progress=progress,
    )
    single_probs = single.predict(single_data.x_test)[:, None]
    single_labels = np.broadcast_to(single_data.y_test, (R, len(single_data.y_test)))
    samples = resampling_samples(len(data.y_train), sub, R, seed_for(seed, "samples"))
    # one replica batch per training-sample size (all three schemes at the book's sizes)
    schemes = list(samples)
    rows = [(s, i) for s in schemes for i in range(R * M)]
    by_size: dict[int, list[int]] = {}
    for j, (s, i) in enumerate(rows):
        by_size.setdefault(len(samples[s][i][0]), []).append(j)
    holdout = np.empty((len(rows), len(data.y_test), data.n_classes), np.float32)
    available = np.empty((len(rows), len(data.y_train), data.n_classes), np.float32)
    y_onehot = data.onehot(data.y_train)
    for n, members in by_size.items():
        index = np.stack([samples[rows[j][0]][rows[j][1]][0] for j in members])
        model, _ = train_members(
            sub,
            data.x_train,
            y_onehot,
            len(members),
            seed_for(seed, "members", n),
            train_index=index,
            progress=progress,
        )
        holdout[members] = predict_in_chunks(model, data.x_test)
        available[members] = predict_in_chunks(model, data.x_train)
    labels = np.broadcast_to(data.y_test, (R, len(data.y_test)))
    arms = [
        make_arm(
            "single",
            f"single model ({len(single_data.y_train)} train rows)",
            single_probs[:, 0],
            single_labels,
            single_probs,
            sub.epochs,
        )
    ]
    frames, estimates = [], {}
    for k, scheme in enumerate(schemes):
        probs = holdout[k * R * M : (k + 1) * R * M].reshape(R, M, len(data.y_test), -1)
        own = available[k * R * M : (k + 1) * R * M]
        # the estimate: each member scored on the rows its sample left out, averaged
        held_acc = np.array(
            [
                comb.accuracy(own[i][samples[scheme][i][1]], data.y_train[samples[scheme][i][1]])
                for i in range(R * M)
            ]
        ).reshape(R, M)
        estimates[scheme] = summarize(held_acc.mean(axis=1), metric="test_accuracy")
        frames.append(sweep_frame(scheme, comb.size_sweep(probs, data.y_test)))
        arms.append(
            make_arm(
                scheme,
                f"{SCHEME_LABELS[scheme]}, {M} members (holdout)",
                probs.mean(axis=1),
                labels,
                probs,
                M * sub.epochs,
            )
        )
    extra = {"estimated_accuracy": estimates, "holdout_rows": int(len(data.y_test))}
    return MethodResult("resampling", arms, pd.concat(frames, ignore_index=True), extra)


def horizontal_voting(cfg: Config, datasets: dict[str, Dataset], progress=True) -> MethodResult:
    sub = cfg.ensembles.horizontal_voting
    data = datasets[sub.dataset]
    R, K, E = sub.repeats, sub.n_members, sub.epochs
    seed = method_seed(cfg, "horizontal_voting")
    window = K if sub.selection == "contiguous" else sub.window
    kept_epochs = list(range(E - window, E))
    model, history = train_members(
        sub,
        data.x_train,
        data.onehot(data.y_train),
        R,
        seed_for(seed, "members"),
        keep_epochs=kept_epochs,
        progress=progress,
    )
    all_probs = kept_probs(model, history, kept_epochs[::-1], data.x_test)  # newest first
    if sub.selection == "random":  # per repeat, K epochs of the window, newest first
        rng = np.random.default_rng(seed_for(seed, "picks"))
        picks = [np.sort(rng.choice(window, K, replace=False)) for _ in range(R)]
        probs = np.stack([all_probs[r, picks[r]] for r in range(R)])
    else:
        probs = all_probs
    labels = np.broadcast_to(data.y_test, (R, len(data.y_test)))
    sweep = comb.size_sweep(probs, data.y_test)
    arms = [
        make_arm("final", f"final model (epoch {E})", all_probs[:, 0], labels, all_probs[:, :1], E),
        make_arm(
            f"last_{K}", f"vote of {K} {sub.selection} epochs", probs.mean(axis=1), labels, probs, E
        ),
    ]
    return MethodResult(
        "horizontal_voting",
        arms,
        sweep_frame("horizontal", sweep),
        {"kept_epochs": [e + 1 for e in kept_epochs]},
    )


def snapshot(cfg: Config, datasets: dict[str, Dataset], progress=True) -> MethodResult:
    """Snapshots of one annealed run; the ensemble size is chosen per repeat on a validation
    split (validation_from / validation_fraction), and, the reference's way, on test."""
    sub = cfg.ensembles.snapshot
    data = datasets[sub.dataset]
    R, E = sub.repeats, sub.epochs
    seed = method_seed(cfg, "snapshot")
    splits = validation_splits(
        data, sub.validation_from, sub.validation_fraction, R, seed_for(seed, "splits")
    )
    y_onehot = data.onehot(data.y_train)
    baseline, _ = train_members(
        sub,
        data.x_train,
        y_onehot,
        R,
        seed_for(seed, "baseline"),
        hidden_units=sub.baseline_hidden_units,
        epochs=sub.baseline_epochs,
        progress=progress,
        optimizer=make_optimizer(sub, name="sgd", learning_rate=sub.baseline_learning_rate),
        train_index=splits.train,
    )
    base_probs = per_repeat_rows(baseline.predict(data.x_test)[:, None], splits.test)
    model, history, newest_first, schedule = snapshot_run(
        sub,
        data.x_train,
        y_onehot,
        R,
        seed_for(seed, "members"),
        epochs=E,
        cycles=sub.cycles,
        learning_rate=sub.learning_rate,
        train_index=splits.train,
        progress=progress,
    )
    val_probs, val_labels, probs, labels = split_probs(
        lambda x: kept_probs(model, history, newest_first, x), data, splits
    )
    sweep = comb.size_sweep(probs, labels[:, None])
    sizes = {
        "validation": comb.choose_size(val_probs, val_labels),
        "test": comb.choose_size(probs, labels),
    }
    n = len(newest_first)
    arms = [
        make_arm(
            "baseline",
            f"baseline (SGD, {sub.baseline_epochs} epochs)",
            base_probs[:, 0],
            labels,
            base_probs,
            sub.baseline_epochs,
        ),
        make_arm("annealed_single", "final snapshot alone", probs[:, 0], labels, probs[:, :1], E),
        make_arm(
            f"snapshots_{n}", f"ensemble of {n} snapshots", probs.mean(axis=1), labels, probs, E
        ),
    ]
    for where, chosen in sizes.items():
        optimistic = where == "test"
        arms.append(
            make_arm(
                f"best_size_{where}",
                f"size chosen on {where}" + (" (optimistic)" if optimistic else ""),
                comb.average_first(probs, chosen),
                labels,
                probs,
                E,
                "test (optimistic)" if optimistic else "validation",
            )
        )
    table = pd.DataFrame(
        {"epoch": np.arange(1, E + 1), "learning_rate": [schedule(e) for e in range(E)]}
    )
    extra = {
        "snapshot_epochs": [e + 1 for e in newest_first[::-1]],
        "best_size": {where: chosen for where, chosen in sizes.items()},
        "validation_rows": int(splits.val.shape[1]),
        "training_rows": int(splits.train.shape[1]),
    }
    return MethodResult("snapshot", arms, sweep_frame("snapshots", sweep), extra, table)


def stacking(cfg: Config, datasets: dict[str, Dataset], progress=True) -> MethodResult:
    sub = cfg.ensembles.stacking
    data = datasets[sub.dataset]
    R, M = sub.repeats, sub.n_members
    seed = method_seed(cfg, "stacking")
    splits, val_probs, val_labels, test_probs, test_labels = members_with_validation(
        sub, data, R, M, seed, progress
    )
    cost = M * sub.epochs
    sweep = comb.size_sweep(test_probs, test_labels[:, None])
    arms = [
        make_arm(
            f"average_{M}",
            f"average of {M}",
            test_probs.mean(axis=1),
            test_labels,
            test_probs,
            cost,
        )
    ]
    fits = {"validation": (val_probs, val_labels), "test": (test_probs, test_labels)}
    meta_name = META_NAMES[sub.meta_learner]
    for where, (fit_probs, fit_labels) in fits.items():
        tag = " (fit on test: optimistic)" if where == "test" else ""
        fitted = "validation" if where == "validation" else "test (optimistic)"
        combined = meta_stack(
            sub.meta_learner,
            fit_probs,
            fit_labels,
            test_probs,
            data.n_classes,
            seed_for(seed, "meta"),
        )
        arms.append(
            make_arm(
                f"{sub.meta_learner}_{where}",
                f"{meta_name} stack{tag}",
                combined,
                test_labels,
                test_probs,
                cost,
                fitted,
            )
        )
        combined = integrated_head(
            sub,
            fit_probs,
            fit_labels,
            test_probs,
            data.n_classes,
            seed_for(seed, "head"),
            progress,
        )
        arms.append(
            make_arm(
                f"network_{where}",
                f"integrated network{tag}",
                combined,
                test_labels,
                test_probs,
                cost + sub.head_epochs,
                fitted,
            )
        )
    extra = {
        "validation_rows": int(splits.val.shape[1]),
        "training_rows": int(splits.train.shape[1]),
    }
    return MethodResult("stacking", arms, sweep_frame("averaging", sweep), extra)


def weight_averaging(cfg: Config, datasets: dict[str, Dataset], progress=True) -> MethodResult:
    sub = cfg.ensembles.weight_averaging
    data = datasets[sub.dataset]
    R, K, E = sub.repeats, sub.n_checkpoints, sub.epochs
    seed = method_seed(cfg, "weight_averaging")
    kept = list(range(E - K, E))[::-1]  # newest first
    model, history = train_members(
        sub,
        data.x_train,
        data.onehot(data.y_train),
        R,
        seed_for(seed, "members"),
        keep_epochs=kept,
        progress=progress,
    )
    checkpoints = [history.kept[e] for e in kept]
    # every (scheme, n) average as replicas of one model: one predict call for all
    averaged = [
        comb.average_checkpoints(checkpoints[:n], comb.checkpoint_coefficients(n, s, sub.decay))
        for s in comb.WEIGHT_SCHEMES
        for n in range(1, K + 1)
    ]
    n_rows = len(data.y_test)
    probs = checkpoint_model(model, averaged).predict(data.x_test)
    probs = probs.reshape(len(comb.WEIGHT_SCHEMES), K, R, n_rows, -1).transpose(0, 2, 1, 3, 4)
    singles = kept_probs(model, history, kept, data.x_test)  # [R, K, N, C]
    labels = np.broadcast_to(data.y_test, (R, n_rows))
    single_acc = comb.accuracy(singles, data.y_test)
    arms = [make_arm("final", f"final model (epoch {E})", singles[:, 0], labels, singles[:, :1], E)]
    frames = []
    for i, scheme in enumerate(comb.WEIGHT_SCHEMES):
        acc = comb.accuracy(probs[i], data.y_test)  # [R, K]
        frames.append(sweep_frame(scheme, {"ensemble": acc, "single": single_acc}))
        arms.append(
            make_arm(
                f"{scheme}_{K}",
                f"{scheme} average of last {K} weights",
                probs[i][:, -1],
                labels,
                singles,
                E,
            )
        )
    return MethodResult(
        "weight_averaging",
        arms,
        pd.concat(frames, ignore_index=True),
        {"kept_epochs": [e + 1 for e in kept]},
    )


RUNNERS: dict[str, Callable[..., MethodResult]] = {
    "model_averaging": model_averaging,
    "weighted_average": weighted_average,
    "resampling": resampling,
    "horizontal_voting": horizontal_voting,
    "snapshot": snapshot,
    "stacking": stacking,
    "weight_averaging": weight_averaging,
}


def datasets_needed(cfg: Config, method: str) -> list[str]:
    sub = getattr(cfg.ensembles, method)
    return [sub.dataset] + ([sub.single_dataset] if method == "resampling" else [])


def run(cfg: Config, method: str, datasets: dict[str, Dataset], progress=True) -> MethodResult:
    """Run one method's whole procedure `repeats` times and score every arm."""
    if method not in RUNNERS:
        raise UserError(f"unknown ensemble method {method!r} (allowed: {', '.join(METHODS)})")
    result = RUNNERS[method](cfg, datasets, progress)
    if result.schedule is None:  # the members' constant learning rate, for a uniform output
        sub = getattr(cfg.ensembles, method)
        result.schedule = pd.DataFrame(
            {"epoch": np.arange(1, sub.epochs + 1), "learning_rate": float(sub.learning_rate)}
        )
    return result
