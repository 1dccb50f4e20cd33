"""Numbers the references published for the baseline study, set beside ours in the report."""

BASELINE = {"train_accuracy": 0.816, "test_accuracy": 0.830}
