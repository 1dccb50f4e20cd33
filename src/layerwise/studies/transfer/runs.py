"""Transfer learning (docs/studies.md#transfer-learning): does starting from a related
problem's weights help, and which layers should stay fixed?

Two steps, two stages. `sources.run_source` fits the source network once per source problem
(the reference's saved model). `run` compares, for every case (source problem ->
target problem), a standalone network against transfer arms over R repeats:

- standalone: fresh random weights;
- fixed_k: every layer copied from the source, the first k hidden layers frozen;
- new_hidden: the source's hidden layers frozen, a new randomly initialised hidden
  layer inserted before the (copied) output layer;
- reinit_top: the first `reinit_keep` hidden layers copied and frozen, every layer
  above them re-initialised, separating the features from the initialisation.

Each transfer arm runs under two protocols: `same_source` (every repeat starts from
the one saved source model) and `fresh_source` (repeat r starts from its own source
model, trained first, so the spread includes the source's randomness).

Arms whose networks share an architecture are stacked (`ReplicaMLP.concat`, which keeps
each arm's frozen layers as per-replica trainable flags) and trained as one program:
one fit per architecture instead of one per arm and protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.config.transfer import TransferConfig
from layerwise.engine import Dense, ReplicaMLP
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.progress import Progress
from layerwise.pipeline.seeds import seed_for
from layerwise.pipeline.stats import band, summarize
from layerwise.studies.transfer.sources import Problem, check_source, fit, network, train_sources
from layerwise.studies.transfer.summary import compare_to_control, epochs_to_reach

STANDALONE = "standalone"


def build_arm(
    arm: str,
    layers: list[Dense],
    source: ReplicaMLP,
    n_replicas: int,
    n_inputs: int,
    seed: int,
    t: TransferConfig,
) -> ReplicaMLP:
    """The starting network of one arm, R replicas, with its frozen layers marked.

    `source` holds one replica (same-source protocol: copied into every repeat) or
    R replicas (fresh-source protocol: repeat r starts from source r).
    """
    n_hidden = len(layers) - 1
    if arm == STANDALONE:
        return ReplicaMLP.create(n_inputs, layers, n_replicas, seed)
    if arm.startswith("fixed_"):
        frozen = int(arm.removeprefix("fixed_"))
        model = ReplicaMLP.create(n_inputs, layers, n_replicas, seed)
        model.copy_weights_from(source)
        model.trainable = [i >= frozen for i in range(len(layers))]
        return model
    if arm == "new_hidden":
        new_layer = Dense(layers[-2].units, layers[-2].activation, layers[-2].initializer)
        deeper = layers[:-1] + [new_layer, layers[-1]]
        model = ReplicaMLP.create(n_inputs, deeper, n_replicas, seed)  # draws the new layer
        model.copy_weights_from(source, {**{i: i for i in range(n_hidden)}, n_hidden + 1: n_hidden})
        model.trainable = [False] * n_hidden + [True, True]
        return model
    if arm == "reinit_top":
        model = ReplicaMLP.create(n_inputs, layers, n_replicas, seed)
        model.copy_weights_from(source)
        model.reinitialize(range(t.reinit_keep, len(layers)), seed_for(seed, "reinit"))
        model.trainable = [i >= t.reinit_keep for i in range(len(layers))]
        return model
    raise ValueError(f"unknown arm {arm!r}")


@dataclass
class TransferResult:
    summary: dict  # {case: {"standalone": ..., "<protocol>": {arm: ...}, "fresh_sources": ...}}
    replicas: pd.DataFrame  # one row per case, protocol, arm and repeat
    curves: pd.DataFrame  # per case, protocol, arm and epoch: mean test accuracy and 95% band


def run(
    cfg: Config, problems: dict[str, Problem], sources: dict[str, ReplicaMLP], progress: bool = True
) -> TransferResult:
    """Every case: all arms x R repeats x both protocols, arms grouped into shared fits.

    problems: the source problems by name and the targets by case name;
    sources: the saved source model (one replica) of each source problem.
    """
    t = cfg.transfer
    # per case: the fresh sources, standalone once, every transfer arm under every protocol
    per_case = ("fresh_source" in t.protocols) + 1 + (len(t.arm_names()) - 1) * len(t.protocols)
    meter = Progress("arms x protocols trained", per_case * len(t.cases), show=progress)
    summary, rows, curve_rows = {}, [], []
    for case_name, case in t.cases.items():
        target, source_problem = problems[case_name], problems[case.source]
        layers = network(t.source, target.n_classes)
        check_source(
            sources[case.source], layers, target.n_features, t, f"source model {case.source!r}"
        )
        if source_problem.n_features != target.n_features:
            raise UserError(
                f"transfer.cases.{case_name}: source and target have different numbers of inputs"
            )
        case_metrics: dict = {}
        protocol_sources = {}
        if "same_source" in t.protocols:
            protocol_sources["same_source"] = sources[case.source]
        if "fresh_source" in t.protocols:
            fresh, history = train_sources(
                cfg,
                source_problem,
                t.repeats,
                seed_for(cfg.seed, "transfer", case_name, "fresh sources"),
            )
            protocol_sources["fresh_source"] = fresh
            case_metrics["fresh_sources"] = summarize(
                history.curves["val_score"][-1], metric="test_accuracy"
            )
            meter.advance()

        # every (protocol, arm) start, grouped by architecture: arms that freeze different
        # layers still share a program (per-replica trainable flags after concat)
        groups: dict[tuple, list[tuple[str, str, ReplicaMLP]]] = {}
        for arm in t.arm_names():
            # standalone does not depend on the protocol: it runs once, as protocol "none"
            starts = {"none": None} if arm == STANDALONE else protocol_sources
            for protocol, source in starts.items():
                model = build_arm(
                    arm,
                    layers,
                    source,
                    t.repeats,
                    target.n_features,
                    seed_for(cfg.seed, "transfer", case_name, protocol, arm),
                    t,
                )
                groups.setdefault(model.layers, []).append((protocol, arm, model))
        outcome = {}
        for members in groups.values():
            stacked = ReplicaMLP.concat([m for _, _, m in members])
            history = fit(
                stacked,
                target,
                t,
                epochs=t.epochs,
                batch_size=t.batch_size,
                seed=seed_for(
                    cfg.seed, "transfer", case_name, *[f"{p}/{a}" for p, a, _ in members]
                ),
            )
            for k, (protocol, arm, _) in enumerate(members):
                part = slice(k * t.repeats, (k + 1) * t.repeats)
                outcome[protocol, arm] = {name: c[:, part] for name, c in history.curves.items()}
            meter.advance(len(members))

        control = outcome["none", STANDALONE]["val_score"][-1]
        for (protocol, arm), curves in outcome.items():
            test = curves["val_score"][-1]
            reach = epochs_to_reach(curves["val_score"], t.reach_fraction)
            entry = {
                "test_accuracy": summarize(test, metric="test_accuracy"),
                "train_accuracy": summarize(curves["score"][-1], metric="train_accuracy"),
                "epochs_to_reach": summarize(reach, metric="epochs_to_reach"),
            }
            if arm != STANDALONE:
                entry["vs_standalone"] = compare_to_control(test, control)
                case_metrics.setdefault(protocol, {})[arm] = entry
            else:
                case_metrics[STANDALONE] = entry
            rows.append(
                pd.DataFrame(
                    {
                        "case": case_name,
                        "protocol": protocol,
                        "arm": arm,
                        "repeat": np.arange(t.repeats),
                        "train_accuracy": curves["score"][-1],
                        "test_accuracy": test,
                        "epochs_to_reach": reach,
                    }
                )
            )
            b = band(curves["val_score"], metric="test_accuracy")
            curve_rows.append(
                pd.DataFrame(
                    {
                        "case": case_name,
                        "protocol": protocol,
                        "arm": arm,
                        "epoch": np.arange(1, t.epochs + 1),
                        "test_accuracy": b["mean"],
                        "test_accuracy_low": b["low"],
                        "test_accuracy_high": b["high"],
                    }
                )
            )
        summary[case_name] = case_metrics
    return TransferResult(
        summary, pd.concat(rows, ignore_index=True), pd.concat(curve_rows, ignore_index=True)
    )
