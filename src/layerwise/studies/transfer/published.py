"""Numbers the references published for the transfer study, set beside ours in the report."""

# Transfer learning (docs/studies.md#transfer-learning)
TRANSFER_SOURCE = {"train_accuracy": 0.916, "test_accuracy": 0.920}  # the Problem 1 model

TRANSFER_SINGLE = {  # single runs on Problem 2: test accuracy
    "standalone": 0.794,
    "fixed_0": 0.810,  # "load the Problem 1 model and keep fitting"
}

TRANSFER_REPEATS = {  # mean (std) of test accuracy over 30 repeats, one shared source model
    "standalone": (0.787, 0.101),
    "fixed_0": (0.805, 0.004),
    "fixed_1": (0.817, 0.005),
    "fixed_2": (0.750, 0.014),
}
