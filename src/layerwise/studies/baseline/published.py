"""Numbers the references published for the baseline study, set beside ours in the report.

Written as printed (strings): the number of decimals is part of what was published."""

from layerwise.pipeline.stats import as_printed

BASELINE = as_printed({"train_accuracy": "0.816", "test_accuracy": "0.830"})
