"""Greedy layer-wise pretraining (docs/studies.md#greedy-layer-wise-pretraining).

Supervised: start from the baseline's fitted replicas; repeatedly insert a new
hidden layer before the kept output layer, freeze every earlier hidden layer and
refit, scoring every depth. Controls: the same architecture trained end to end from
scratch with the epochs the greedy network received in total, and fine-tuning of
all layers at a smaller learning rate after the last addition.

Unsupervised: an autoencoder grown the same way (input -> input, MSE); at every
depth a softmax head is fitted on the frozen encoder to score it as a classifier,
and the reconstruction layer is put back for the next round.

Extensions, each its own stage: `activations` (relu/sigmoid/tanh arms with their
controls, and per-layer gradient norms at initialisation), `depth_selection` (stop
adding layers on a validation split carved from the training rows; search the depth
on a subsample, then train it on everything) and `few_labels` (autoencoder
pretraining on every input vs supervised training on n labelled rows).

Depth counts layers with weights, the output layer included (the references'
"model size": the baseline is depth 2).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.engine import Dense, Optimizer, ReplicaMLP, side_by_side
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.models import classifier_layers, make_optimizer, mlp_layers
from layerwise.pipeline.progress import Progress
from layerwise.pipeline.seeds import seed_for
from layerwise.pipeline.stats import summarize
from layerwise.studies.greedy.labels import (
    CONTROL,
    FINE_TUNED,
    GREEDY,
    PRETRAINED_FROZEN,
    PRETRAINED_TUNED,
    SCRATCH,
)


@dataclass
class StudyResult:
    replicas: pd.DataFrame  # one row per (method, depth, replica)
    depths: pd.DataFrame  # per (method, depth): mean and 95% band of each score
    metrics: dict


def _rows(method: str, depth: int, scores: dict[str, np.ndarray]) -> list[dict]:
    n = len(next(iter(scores.values())))
    return [
        {
            "method": method,
            "depth": depth,
            "replica": r,
            **{k: float(v[r]) for k, v in scores.items()},
        }
        for r in range(n)
    ]


def depth_table(replicas: pd.DataFrame) -> pd.DataFrame:
    """Per method and depth: mean, std and 95% CI over replicas of every score column."""
    scores = [c for c in replicas.columns if c not in ("method", "depth", "replica")]
    out = []
    for (method, depth), group in replicas.groupby(["method", "depth"], sort=False):
        row = {"method": method, "depth": depth, "n_replicas": len(group)}
        for col in scores:
            s = summarize(group[col], metric=col)
            row[col] = s["mean"]
            row[f"{col}_std"] = s["std"]
            row[f"{col}_low"] = s["ci_low"]
            row[f"{col}_high"] = s["ci_high"]
        out.append(row)
    return pd.DataFrame(out)


def wide_table(depths: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """One row per depth, one column per (method, score) mean: what `dvc plots` draws."""
    wide = depths.pivot(index="depth", columns="method", values=list(columns))
    wide.columns = [
        f"{method.replace(' + ', '_').replace('-', '_')}_{col}" for col, method in wide.columns
    ]
    return wide.reset_index()


def _metrics(replicas: pd.DataFrame) -> dict:
    """metrics.json: {method: {depth_<d>: {score: summary}}} (dvc exp show columns)."""
    scores = [c for c in replicas.columns if c not in ("method", "depth", "replica")]
    metrics: dict = {}
    for (method, depth), group in replicas.groupby(["method", "depth"], sort=False):
        metrics.setdefault(method, {})[f"depth_{depth}"] = {
            col: {k: v for k, v in summarize(group[col], metric=col).items() if k != "n"}
            for col in scores
        }
    return metrics


def _accuracies(model: ReplicaMLP, data: Dataset) -> dict[str, np.ndarray]:
    train = model.evaluate(data.x_train, data.onehot(data.y_train))["score"]
    test = model.evaluate(data.x_test, data.onehot(data.y_test))["score"]
    return {"train_accuracy": train, "test_accuracy": test}


# -- supervised ---------------------------------------------------------------------------


def grown(
    model: ReplicaMLP,
    hidden: Dense,
    additions: int,
    fit: Callable[[ReplicaMLP, int], object],
    seed: Callable[[int], int],
) -> Iterator[ReplicaMLP]:
    """The greedy procedure as a sequence: `model`, then the model after each addition.

    Round k inserts `hidden` before the kept output layer (earlier hidden layers
    frozen) and calls `fit(model, k)`. A generator, so a caller can stop early.
    """
    yield model
    for k in range(1, additions + 1):
        model = model.insert_hidden(hidden, seed=seed(k))
        fit(model, k)
        yield model


def control_model(
    input_dim: int,
    layers: list[Dense],
    hidden: Dense,
    k: int,
    n_replicas: int,
    fit: Callable[[ReplicaMLP, int], object],
    seed: Callable[[int], int],
) -> ReplicaMLP:
    """The end-to-end control at one depth: a fresh model of the base architecture
    `layers` with `k` copies of `hidden` added before the output, all layers learning,
    fitted by `fit(model, k)`."""
    deeper = list(layers[:-1]) + [hidden] * k + [layers[-1]]
    model = ReplicaMLP.create(input_dim, deeper, n_replicas, seed=seed(k))
    fit(model, k)
    return model


def _run_tasks(tasks: dict) -> dict:
    """Run {key: (estimated cost, task)} side by side, costliest first: {key: result}."""
    order = sorted(tasks, key=lambda key: -tasks[key][0])
    return dict(zip(order, side_by_side([tasks[key][1] for key in order]), strict=True))


def _fitter(
    cfg: Config,
    data: Dataset,
    epochs: Callable[[int], int],
    batch_size: int,
    stream: str,
    optimizer: Optimizer | None = None,
    **fit_args,
):
    """fit(model, k) on the training split; round k draws its minibatches from the stream
    (`stream`, k)."""
    optimizer = optimizer or make_optimizer(cfg.optimizer)
    y = data.onehot(data.y_train)

    def fit(model: ReplicaMLP, k: int):
        return model.fit(
            data.x_train,
            y,
            epochs=epochs(k),
            optimizer=optimizer,
            batch_size=batch_size,
            seed=seed_for(cfg.seed, stream, k),
            curves=False,  # the greedy studies score the final weights only
            **fit_args,
        )

    return fit


def supervised(cfg: Config, data: Dataset, base: ReplicaMLP, progress: bool = True) -> StudyResult:
    """Greedy supervised layer addition from the fitted baseline, plus its controls."""
    g = cfg.greedy.supervised
    if g.additions < 0:  # the schema rejects it too; the function is also called directly
        raise UserError(f"greedy.supervised.additions = {g.additions} (allowed: >= 0)")
    if len(base.layers) < 2:
        raise UserError("greedy.supervised: the baseline has no hidden layer to grow from")
    hidden = base.layers[-2]
    steps = g.additions + (g.additions + 1 if g.control else 0) + int(g.fine_tune)
    step = Progress("greedy supervised rounds", steps, show=progress).advance

    fit = _fitter(cfg, data, lambda k: g.epochs, g.batch_size, "greedy.supervised.fit")

    def greedy_rows() -> list[dict]:
        rows = []
        for model in grown(
            base, hidden, g.additions, fit, lambda k: seed_for(cfg.seed, "greedy.supervised.add", k)
        ):
            rows += _rows(GREEDY, len(model.layers), _accuracies(model, data))
            if model is not base:
                step()
        if g.fine_tune:
            tuned = model.select(np.arange(model.n_replicas))
            tuned.unfreeze()
            optimizer = make_optimizer(cfg.optimizer, learning_rate=g.fine_tune_learning_rate)
            _fitter(
                cfg,
                data,
                lambda k: g.fine_tune_epochs,
                g.batch_size,
                "greedy.supervised.fine_tune",
                optimizer,
            )(tuned, 0)
            rows += _rows(FINE_TUNED, len(tuned.layers), _accuracies(tuned, data))
            step()
        return rows

    # the greedy network at depth d was trained for the baseline's epochs plus g.epochs
    # per added layer: the control gets that many epochs, all layers learning
    budget = _fitter(
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
        return _rows(CONTROL, len(control.layers), _accuracies(control, data))

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
    results = _run_tasks(tasks)
    rows = [row for key in tasks for row in results[key]]
    replicas = pd.DataFrame(rows)
    metrics = {"dataset": cfg.data.name, "n_replicas": base.n_replicas, **_metrics(replicas)}
    return StudyResult(replicas, depth_table(replicas), metrics)


# -- unsupervised -------------------------------------------------------------------------


def autoencoder_layers(cfg: Config, n_features: int) -> list[Dense]:
    """The base autoencoder: the model's hidden layers, then a linear reconstruction layer."""
    m = cfg.model
    return mlp_layers(m.hidden_units, m.activation, m.initializer, n_features, output="linear")


def classifier_head_scores(
    encoder: ReplicaMLP, data: Dataset, cfg: Config, round_: int, train_index=None
) -> dict[str, np.ndarray]:
    """Fit a softmax head on the frozen encoder; return its train/test accuracy.

    `encoder` is any model whose output layer is to be replaced (the autoencoder:
    its reconstruction layer stays where it is, on `encoder` itself).
    train_index: [R, n] labelled rows per replica (few labels); default: all rows.
    """
    g = cfg.greedy.unsupervised
    head = Dense(data.n_classes, "softmax", "glorot_uniform")
    classifier = encoder.with_head(
        head, seed=seed_for(cfg.seed, "greedy.unsupervised.head.init", round_)
    )
    y = data.onehot(data.y_train)
    classifier.fit(
        data.x_train,
        y,
        epochs=g.classifier_epochs,
        batch_size=g.batch_size,
        optimizer=make_optimizer(cfg.optimizer),
        train_index=train_index,
        seed=seed_for(cfg.seed, "greedy.unsupervised.head.fit", round_),
        curves=False,
    )
    return _accuracies(classifier, data)


def unsupervised(cfg: Config, data: Dataset, progress: bool = True) -> StudyResult:
    """Greedy autoencoder growth; reconstruction MSE and classifier-head accuracy per depth."""
    g = cfg.greedy.unsupervised
    optimizer = make_optimizer(cfg.optimizer)
    x = data.x_train
    step = Progress("greedy unsupervised depths", g.additions + 1, show=progress).advance
    autoencoder = ReplicaMLP.create(
        data.n_features,
        autoencoder_layers(cfg, data.n_features),
        g.n_replicas,
        seed=seed_for(cfg.seed, "greedy.unsupervised.autoencoder.init"),
    )
    hidden = autoencoder.layers[-2]
    rows = []
    for k in range(g.additions + 1):
        if k > 0:
            autoencoder = autoencoder.insert_hidden(
                hidden, seed=seed_for(cfg.seed, "greedy.unsupervised.autoencoder.add", k)
            )
        autoencoder.fit(
            x,
            x,
            epochs=g.epochs,
            optimizer=optimizer,
            loss="mse",
            batch_size=g.batch_size,
            seed=seed_for(cfg.seed, "greedy.unsupervised.autoencoder.fit", k),
            curves=False,
        )
        scores = {
            "train_mse": autoencoder.evaluate(x, x, "mse")["loss"],
            "test_mse": autoencoder.evaluate(data.x_test, data.x_test, "mse")["loss"],
            **classifier_head_scores(autoencoder, data, cfg, k),
        }
        # SGD with momentum sends some initialisations' reconstruction loss to inf/NaN
        # within an epoch or two; their encoders are meaningless, so their head scores are
        # left out (NaN) and the count is reported instead
        diverged = ~np.isfinite(scores["train_mse"])
        for name in ("train_accuracy", "test_accuracy"):
            scores[name] = np.where(diverged, np.nan, scores[name])
        scores["diverged"] = diverged.astype(float)
        rows += _rows("autoencoder", len(autoencoder.layers), scores)
        step()
    replicas = pd.DataFrame(rows)
    metrics = {"dataset": cfg.data.name, "n_replicas": g.n_replicas, **_metrics(replicas)}
    return StudyResult(replicas, depth_table(replicas), metrics)


# -- activations --------------------------------------------------------------------------


@dataclass
class ActivationsResult:
    study: StudyResult  # greedy and end-to-end per activation and depth
    gradients: pd.DataFrame  # per activation, layer and replica: gradient norm at init


def activations(cfg: Config, data: Dataset, progress: bool = True) -> ActivationsResult:
    """Greedy vs end-to-end training per hidden activation, and gradient norms at init.

    Each arm trains its own base network (the baseline's shape with that activation)
    for `epochs`, grows it greedily and, as a control, trains each depth end to end
    for the same total number of epochs. The gradient measurement: for a network of
    `gradient_depth` hidden layers, freshly initialised, the norm of the loss gradient
    with respect to each layer's kernel over the whole training split.
    """
    a = cfg.greedy.activations
    width, init = cfg.model.hidden_units[-1], cfg.model.initializer
    output = Dense(data.n_classes, "softmax", "glorot_uniform")
    y = data.onehot(data.y_train)
    names, R = list(a.names), a.n_replicas
    steps = (a.additions + 1) * (2 if a.control else 1)
    step = Progress("greedy activation rounds", steps, show=progress).advance
    gradient_rows = []

    # The arms differ only in the hidden activation, so they train as one model (one
    # compiled program per depth, not one per arm and depth): arm i holds replicas
    # i*R .. (i+1)*R - 1, each arm's base network drawn from its own stream.
    base = ReplicaMLP.concat(
        [
            ReplicaMLP.create(
                data.n_features,
                [Dense(width, name, init), output],
                R,
                seed=seed_for(cfg.seed, "greedy.activations.init", name),
            )
            for name in names
        ]
    )
    hidden = base.layers[0]  # one activation per replica

    def tally(method: str, model: ReplicaMLP) -> list[dict]:
        step()
        scores = _accuracies(model, data)
        rows = []
        for i, name in enumerate(names):
            arm = {k: v[i * R : (i + 1) * R] for k, v in scores.items()}
            rows += [{"activation": name, **row} for row in _rows(method, len(model.layers), arm)]
        return rows

    def greedy_rows() -> list[dict]:
        fit = _fitter(cfg, data, lambda k: a.epochs, a.batch_size, "greedy.activations.fit")
        fit(base, 0)
        models = grown(
            base,
            hidden,
            a.additions,
            fit,
            lambda k: seed_for(cfg.seed, "greedy.activations.add", k),
        )
        return [row for model in models for row in tally(GREEDY, model)]

    def control_rows(k: int) -> list[dict]:
        budget = _fitter(
            cfg, data, lambda k: (k + 1) * a.epochs, a.batch_size, "greedy.activations.control.fit"
        )
        model = control_model(
            data.n_features,
            [hidden, output],
            hidden,
            k,
            base.n_replicas,
            budget,
            lambda k: seed_for(cfg.seed, "greedy.activations.control.init", k),
        )
        return tally(CONTROL, model)

    # the greedy sequence and each control depth are independent trainings: run them
    # side by side, the largest first (costs: epochs x trainable layers)
    tasks = {GREEDY: (a.epochs * (2 + 2 * a.additions), greedy_rows)}
    for k in range(a.additions + 1) if a.control else ():
        tasks[k] = ((k + 1) * a.epochs * (k + 2), functools.partial(control_rows, k))
    results = _run_tasks(tasks)
    rows = [row for key in tasks for row in results[key]]
    # arm by arm, greedy before its controls (a stable sort keeps depths and replicas)
    rows.sort(key=lambda row: names.index(row["activation"]))
    for name in names:
        hidden = Dense(width, name, init)
        deep = ReplicaMLP.create(
            data.n_features,
            [hidden] * a.gradient_depth + [output],
            a.n_replicas,
            seed=seed_for(cfg.seed, "greedy.activations.gradients", name),
        )
        norms = deep.gradient_norms(data.x_train, y)
        for r in range(norms.shape[0]):
            for layer in range(norms.shape[1]):
                gradient_rows.append(
                    {
                        "activation": name,
                        "layer": layer + 1,
                        "replica": r,
                        "gradient_norm": float(norms[r, layer]),
                    }
                )
    replicas = pd.DataFrame(rows)
    depths = pd.concat(
        [
            depth_table(group.drop(columns="activation")).assign(activation=name)
            for name, group in replicas.groupby("activation", sort=False)
        ],
        ignore_index=True,
    )
    metrics = {"dataset": cfg.data.name, "n_replicas": a.n_replicas}
    for name, group in replicas.groupby("activation", sort=False):
        metrics[name] = _metrics(group.drop(columns="activation"))
    gradients = pd.DataFrame(gradient_rows)
    for name, group in gradients.groupby("activation", sort=False):
        first, last = group[group.layer == 1], group[group.layer == group.layer.max()]
        metrics[name]["gradient_ratio_first_to_last"] = float(
            np.median(first.gradient_norm.to_numpy() / last.gradient_norm.to_numpy())
        )
    return ActivationsResult(StudyResult(replicas, depths, metrics), gradients)


# -- depth selection ----------------------------------------------------------------------


def _split_rows(n_rows: int, n_replicas: int, sample: int, n_val: int, rng) -> tuple:
    """Per replica: a random sample of `sample` rows, its first `n_val` for validation."""
    picks = np.stack([rng.permutation(n_rows)[:sample] for _ in range(n_replicas)])
    return picks[:, n_val:], picks[:, :n_val]


def greedy_depth_search(
    cfg: Config,
    data: Dataset,
    fit_index: np.ndarray,
    val_index: np.ndarray | None,
    max_additions: int,
    stream: str,
    patience: int | None = None,
) -> dict[str, np.ndarray]:
    """Greedy supervised growth on each replica's own rows, scored after every round.

    fit_index: [R, n] training rows per replica; val_index: [R, m] validation rows per
    replica (None: no selection). With validation, each replica's chosen depth is its
    best validation accuracy before `patience` rounds pass without improvement; rounds
    continue until every replica has stopped or `max_additions` is reached.
    Returns per depth [D, R] test accuracies, validation accuracies, and per replica
    the chosen depth.
    """
    d = cfg.greedy.depth_selection
    n_replicas = fit_index.shape[0]
    hidden = Dense(cfg.model.hidden_units[-1], cfg.model.activation, cfg.model.initializer)
    layers = classifier_layers(cfg.model, data.n_classes)
    base = ReplicaMLP.create(
        data.n_features, layers, n_replicas, seed=seed_for(cfg.seed, stream, "init")
    )
    fit = _fitter(
        cfg, data, lambda k: d.epochs, d.batch_size, f"{stream}.fit", train_index=fit_index
    )
    fit(base, 0)
    y = data.onehot(data.y_train)
    val = None if val_index is None else (data.x_train[val_index], y[val_index])
    best = np.full(n_replicas, -1.0)
    chosen = np.full(n_replicas, len(base.layers))
    waited = np.zeros(n_replicas, dtype=int)
    depths, tests, vals = [], [], []
    add_seed = functools.partial(seed_for, cfg.seed, f"{stream}.add")
    for model in grown(base, hidden, max_additions, fit, add_seed):
        depth = len(model.layers)
        depths.append(depth)
        tests.append(model.evaluate(data.x_test, data.onehot(data.y_test))["score"])
        if val is None:
            continue
        score = model.evaluate(*val)["score"]
        vals.append(score)
        active = waited < patience
        improved = active & (score > best)
        chosen[improved], best[improved] = depth, score[improved]
        waited[improved] = 0
        waited[active & ~improved] += 1
        if not np.any(waited < patience):
            break
    return {
        "depth": np.array(depths),
        "test_accuracy": np.array(tests),
        "validation_accuracy": np.array(vals),
        "chosen_depth": chosen,
    }


def depth_selection(cfg: Config, data: Dataset, progress: bool = True) -> StudyResult:
    """The tutorial's two settings, with validation rows carved from the training split.

    "validation": grow greedily on each replica's training rows minus its validation
    rows; stop after `patience` rounds without improvement; keep the best depth.
    "subsample": search the depth the same way on a `subsample_fraction` sample of the
    training rows, then train that depth greedily on the full training split.
    Reported per replica: the chosen depth and the test accuracy there.
    """
    d = cfg.greedy.depth_selection
    n_rows = len(data.x_train)
    rng = np.random.default_rng(seed_for(cfg.seed, "greedy.depth_selection.splits"))
    step = Progress("depth selection settings", 3, show=progress).advance

    def split(sample: int):
        n_val = int(round(sample * d.validation_fraction))
        if n_val < 1 or sample - n_val < 1:
            raise UserError(
                f"greedy.depth_selection: {sample} rows with validation_fraction = "
                f"{d.validation_fraction} leave no validation or no training rows "
                "(allowed: a fraction leaving at least one of each)"
            )
        return _split_rows(n_rows, d.n_replicas, sample, n_val, rng)

    full_split = split(n_rows)
    small_split = split(max(2, int(round(n_rows * d.subsample_fraction))))

    def ticked(result):
        step()
        return result

    def validation_setting() -> list[dict]:
        search = greedy_depth_search(
            cfg, data, *full_split, d.max_additions, "greedy.depth_selection.validation", d.patience
        )
        return ticked(_selection_rows("validation", search, search))

    def subsample_setting() -> list[dict]:
        small = ticked(
            greedy_depth_search(
                cfg,
                data,
                *small_split,
                d.max_additions,
                "greedy.depth_selection.subsample.search",
                d.patience,
            )
        )
        every = np.broadcast_to(np.arange(n_rows), (d.n_replicas, n_rows))
        rounds = int(small["chosen_depth"].max()) - len(cfg.model.hidden_units) - 1
        full = greedy_depth_search(
            cfg, data, every, None, rounds, "greedy.depth_selection.subsample.train"
        )
        return ticked(_selection_rows("subsample", small, full))

    # the two settings are independent trainings: side by side
    validation_rows, subsample_rows = side_by_side([validation_setting, subsample_setting])
    rows = validation_rows + subsample_rows
    replicas = pd.DataFrame(rows)
    metrics = {"dataset": cfg.data.name, "n_replicas": d.n_replicas}
    for setting, group in replicas.groupby("setting", sort=False):
        counts = group["chosen_depth"].value_counts().sort_index()
        metrics[setting] = {
            "chosen_depth": {f"depth_{k}": int(v) for k, v in counts.items()},
            "chosen_depth_mean": float(group["chosen_depth"].mean()),
            "test_accuracy": summarize(group["test_accuracy"], metric="test_accuracy"),
            "base_test_accuracy": summarize(
                group["base_test_accuracy"], metric="base_test_accuracy"
            ),
        }
    return StudyResult(replicas, pd.DataFrame(), metrics)


def _selection_rows(setting: str, search: dict, trained: dict) -> list[dict]:
    """Per replica: chosen depth (from `search`), test accuracy there (from `trained`)."""
    position = {int(depth): i for i, depth in enumerate(trained["depth"])}
    rows = []
    for r, depth in enumerate(search["chosen_depth"]):
        rows.append(
            {
                "setting": setting,
                "replica": r,
                "chosen_depth": int(depth),
                "rounds_run": int(len(search["depth"]) - 1),
                "test_accuracy": float(trained["test_accuracy"][position[int(depth)], r]),
                "base_test_accuracy": float(trained["test_accuracy"][0, r]),
            }
        )
    return rows


# -- few labels ---------------------------------------------------------------------------


def labelled_rows(n_rows: int, n_labelled: int, n_replicas: int, seed: int) -> np.ndarray:
    """[R, n] distinct training rows per replica that keep their labels (0 = all rows)."""
    if n_labelled > n_rows:
        raise UserError(
            f"greedy.few_labels.n_labelled = {n_labelled} is larger than the {n_rows} training "
            f"rows (allowed: 1..{n_rows}, or 0 for all)"
        )
    if n_labelled == 0:
        return np.broadcast_to(np.arange(n_rows), (n_replicas, n_rows))
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(n_rows, n_labelled, replace=False) for _ in range(n_replicas)])


def few_labels(cfg: Config, data: Dataset, progress: bool = True) -> StudyResult:
    """Pretraining on every training input vs supervised training on n labels only.

    The autoencoder (the model's hidden layers + `pretrain_additions` greedy rounds)
    sees all training inputs, never a label. For each n, every replica draws n
    labelled rows; on them are fitted (a) a softmax head on the frozen encoder,
    (b) the same network with every layer trained from the pretrained weights, and
    (c) a network of the same shape trained from scratch.
    """
    f = cfg.greedy.few_labels
    if not f.n_labelled:
        raise UserError("greedy.few_labels.n_labelled is empty (allowed: a list of sizes)")
    for n in f.n_labelled:  # fail before any training
        labelled_rows(len(data.x_train), n, 1, 0)
    optimizer = make_optimizer(cfg.optimizer)
    x, y = data.x_train, data.onehot(data.y_train)
    layers = autoencoder_layers(cfg, data.n_features)
    autoencoder = ReplicaMLP.create(
        data.n_features,
        layers,
        f.n_replicas,
        seed=seed_for(cfg.seed, "greedy.few_labels.autoencoder.init"),
    )

    def fit_ae(model, k):
        model.fit(
            x,
            x,
            epochs=f.epochs,
            optimizer=optimizer,
            loss="mse",
            batch_size=f.batch_size,
            seed=seed_for(cfg.seed, "greedy.few_labels.autoencoder.fit", k),
            curves=False,
        )

    fit_ae(autoencoder, 0)
    # the last model of the greedy sequence is the pretrained autoencoder
    *_, autoencoder = grown(
        autoencoder,
        layers[-2],
        f.pretrain_additions,
        fit_ae,
        functools.partial(seed_for, cfg.seed, "greedy.few_labels.autoencoder.add"),
    )
    head = Dense(data.n_classes, "softmax", "glorot_uniform")
    # as in the unsupervised study, a diverged autoencoder (inf/NaN loss) is no encoder:
    # its pretrained arms are left out (NaN) and counted
    diverged = ~np.isfinite(autoencoder.evaluate(x, x, "mse")["loss"])
    step = Progress("few-labels fits", 3 * len(f.n_labelled), show=progress).advance

    def arm_rows(method: str, i: int, n: int) -> list[dict]:
        """One arm at one size: build, fit on the replicas' n labelled rows, score."""
        index = labelled_rows(
            len(x), n, f.n_replicas, seed_for(cfg.seed, "greedy.few_labels.rows", n)
        )
        if method == SCRATCH:
            layers = list(autoencoder.layers[:-1]) + [head]
            model = ReplicaMLP.create(
                data.n_features,
                layers,
                f.n_replicas,
                seed=seed_for(cfg.seed, "greedy.few_labels.scratch.init", n),
            )
        else:
            model = autoencoder.with_head(
                head, seed=seed_for(cfg.seed, "greedy.few_labels.head.init", n)
            )
            if method == PRETRAINED_TUNED:
                model.unfreeze()
        model.fit(
            x,
            y,
            epochs=f.epochs,
            optimizer=optimizer,
            batch_size=f.batch_size,
            train_index=index,
            seed=seed_for(cfg.seed, "greedy.few_labels.fit", method, n),
            curves=False,
        )
        scores = _accuracies(model, data)
        if method != SCRATCH:
            scores = {k: np.where(diverged, np.nan, v) for k, v in scores.items()}
        step()
        return [
            {
                "n_labelled": index.shape[1],
                "autoencoder_diverged": bool(diverged[row["replica"]]),
                **row,
            }
            for row in _rows(method, len(model.layers), scores)
        ]

    # every (size, arm) fit is independent: side by side, the largest samples first
    # (costs: labelled rows x trainable layers)
    methods = (PRETRAINED_FROZEN, PRETRAINED_TUNED, SCRATCH)
    tasks = {
        (i, method): (
            (n or len(x)) * (1 if method == PRETRAINED_FROZEN else len(autoencoder.layers)),
            functools.partial(arm_rows, method, i, n),
        )
        for i, n in enumerate(f.n_labelled)
        for method in methods
    }
    results = _run_tasks(tasks)
    rows = [row for key in tasks for row in results[key]]
    replicas = pd.DataFrame(rows)
    table = []
    for (n, method), group in replicas.groupby(["n_labelled", "method"], sort=False):
        s = summarize(group["test_accuracy"], metric="test_accuracy")
        table.append(
            {
                "n_labelled": n,
                "method": method,
                "test_accuracy": s["mean"],
                "test_accuracy_low": s["ci_low"],
                "test_accuracy_high": s["ci_high"],
                "test_accuracy_std": s["std"],
            }
        )
    metrics: dict = {
        "n_replicas": f.n_replicas,
        "depth": len(autoencoder.layers),
        "autoencoders_diverged": int(diverged.sum()),
    }
    for (n, method), group in replicas.groupby(["n_labelled", "method"], sort=False):
        metrics.setdefault(f"n_{n}", {})[method] = summarize(
            group["test_accuracy"], metric="test_accuracy"
        )
    return StudyResult(replicas, pd.DataFrame(table), metrics)
