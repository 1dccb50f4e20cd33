"""Numbers the references published for the ensembles study, set beside ours in the report.

Written as printed (strings): the number of decimals is part of what was published."""

from layerwise.pipeline.stats import as_printed

# Ensembles (docs/studies.md#ensembles), keyed by method and by the arm keys of
# layerwise.studies.ensembles.methods at the book's settings. A (low, high) pair is a range the
# reference reports over its own few runs. Where the reference fitted a combiner on the
# test set it reports, the number sits beside our optimistic (fit on test) arm.
ENSEMBLES = as_printed(
    {
        "model_averaging": {"single": "0.770", "average_5": "0.768"},
        "weighted_average": {
            "average_10": "0.808",
            "equal": ("0.807", "0.818"),
            "grid_test": "0.818",
            "de_test": "0.824",
        },
        "resampling": {
            "single": "0.850",
            "random_splits": "0.820",
            "cv": "0.820",
            "bagging": ("0.819", "0.820"),
        },
        "horizontal_voting": {"final": "0.814", "last_50": "0.818"},
        "snapshot": {"baseline": "0.791", "annealed_single": "0.819", "best_size_test": "0.822"},
        "stacking": {"logistic_test": "0.824", "network_test": "0.833"},
        "weight_averaging": {
            "final": ("0.802", "0.814"),
            "equal_10": ("0.807", "0.814"),
            "linear_10": ("0.809", "0.815"),
            "exponential_10": ("0.813", "0.815"),
        },
    }
)

# Spread the reference reports over its repeats (standard deviation of test accuracy).
ENSEMBLE_SPREAD = as_printed({"model_averaging": {"single": "0.014", "average_5": "0.006"}})

# Resampling: accuracy estimated from each member's held-out part (mean, std over members).
RESAMPLING_ESTIMATES = as_printed({"random_splits": "0.832", "cv": "0.827", "bagging": "0.825"})
