"""Numbers the references published for the transfer study, set beside ours in the report.

Written as printed (strings): the number of decimals is part of what was published."""

from layerwise.pipeline.stats import as_printed

# Transfer learning (docs/studies.md#transfer-learning)
# the Problem 1 model
TRANSFER_SOURCE = as_printed({"train_accuracy": "0.916", "test_accuracy": "0.920"})

# single runs on Problem 2: test accuracy
TRANSFER_SINGLE = as_printed(
    {
        "standalone": "0.794",
        "fixed_0": "0.810",  # "load the Problem 1 model and keep fitting"
    }
)

# mean (std) of test accuracy over 30 repeats, one shared source model
TRANSFER_REPEATS = as_printed(
    {
        "standalone": ("0.787", "0.101"),
        "fixed_0": ("0.805", "0.004"),
        "fixed_1": ("0.817", "0.005"),
        "fixed_2": ("0.750", "0.014"),
    }
)
