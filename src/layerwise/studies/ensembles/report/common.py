"""What both parts of the ensembles section share: method titles and the NLL cells."""

from __future__ import annotations

from layerwise.config.ensembles import ENSEMBLE_METHODS
from layerwise.reporting.markdown import (
    ci,
    fmt,
    interval_name,
    quartiles,
)

# the methods in the config section's order (no import of the training code: no TensorFlow)
METHODS = ENSEMBLE_METHODS
TITLES = {
    "model_averaging": "Model averaging",
    "weighted_average": "Weighted average",
    "resampling": "Resampling",
    "horizontal_voting": "Horizontal voting",
    "snapshot": "Snapshot ensemble",
    "stacking": "Stacking",
    "weight_averaging": "Weight averaging",
}


def nll_cells(nll: dict) -> dict[str, str]:
    """The NLL's two table cells: mean [95% CI] and median [interquartile range]."""
    return {
        f"NLL mean [95% CI, {interval_name('test_nll')}]": f"{fmt(nll['mean'])} [{ci(nll)}]",
        "NLL median [IQR]": quartiles(nll),
    }
