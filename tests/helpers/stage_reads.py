"""Which data files each stage reads, by the stages' own rule (shared by
tests/test_dependencies.py, against the stage graph, and tests/e2e, against what the
stages were seen to open)."""

from __future__ import annotations


def data_files_read(cfg) -> dict[str, set[str]]:
    """The data files each stage opens, from the same params the stages read: the files
    under data/ and results/, and a csv dataset's own file."""
    from layerwise.config.ensembles import ENSEMBLE_METHODS

    name = f"data/{cfg.data.name}.npz"
    reads = {
        "baseline": {name},
        "greedy_supervised": {name, "results/baseline/replicas.npz"},
        "greedy_unsupervised": {name},
        "greedy_activations": {name},
        "greedy_depth": {name},
        "transfer_source": {f"data/{p.dataset}.npz" for p in cfg.transfer.source.problems.values()},
        "transfer": {f"data/{c.dataset}.npz" for c in cfg.transfer.cases.values()},
        "ensemble_compare": {f"data/{cfg.ensembles.compare.dataset}.npz"},
        "report": {f"data/{cfg.data.name}.png"},
    }
    tables = {ds.path for ds in cfg.datasets.values() if ds.kind == "csv"}
    reads["check"] = set(tables)  # its classes, features and rows bound the studies
    reads["data"] = set(tables)
    if cfg.datasets[cfg.data.name].kind == "csv":  # the report names its classes
        reads["report"].add(name)
    for d in cfg.greedy.few_labels.datasets:
        reads[f"greedy_few_labels@{d}"] = {f"data/{d}.npz"}
    for method in ENSEMBLE_METHODS:
        sub = getattr(cfg.ensembles, method)
        files = {f"data/{sub.dataset}.npz"}
        if getattr(sub, "single_dataset", None):
            files.add(f"data/{sub.single_dataset}.npz")
        reads[f"ensemble@{method}"] = files
    return reads
