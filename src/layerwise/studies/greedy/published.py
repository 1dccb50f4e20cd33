"""Numbers the references published for the greedy study, set beside ours in the report.

Written as printed (strings): the number of decimals is part of what was published."""

from layerwise.pipeline.stats import as_printed

# Greedy layer-wise pretraining (docs/studies.md#greedy-supervised and
# #greedy-unsupervised): depth (layers with weights, output included)
# -> published single-run number.
GREEDY_SUPERVISED = as_printed(
    {
        "train_accuracy": {
            2: "0.816",
            3: "0.834",
            4: "0.836",
            5: "0.830",
            6: "0.848",
            7: "0.830",
            8: "0.850",
            9: "0.840",
            10: "0.842",
            11: "0.850",
            12: "0.850",
        },
        "test_accuracy": {
            2: "0.830",
            3: "0.830",
            4: "0.824",
            5: "0.824",
            6: "0.820",
            7: "0.826",
            8: "0.824",
            9: "0.838",
            10: "0.830",
            11: "0.830",
            12: "0.826",
        },
    }
)

GREEDY_UNSUPERVISED = as_printed(
    {
        "train_mse": {2: "0.000", 3: "0.001", 4: "0.002", 5: "0.016", 6: "2.311", 7: "2.192"},
        "test_mse": {2: "0.000", 3: "0.002", 4: "0.002", 5: "0.028", 6: "2.694", 7: "2.526"},
        "train_accuracy": {2: "0.830", 3: "0.826", 4: "0.820", 5: "0.828", 6: "0.764", 7: "0.764"},
        "test_accuracy": {2: "0.832", 3: "0.842", 4: "0.838", 5: "0.834", 6: "0.762", 7: "0.760"},
    }
)

# The TensorFlow tutorial on CIFAR-10: test accuracy after round 1..10 (round 1 = one
# hidden Dense(256) layer, each later round adds one).
GREEDY_CIFAR10_TEST_ACCURACY = as_printed(
    {
        2: "0.485",
        3: "0.514",
        4: "0.505",
        5: "0.500",
        6: "0.487",
        7: "0.487",
        8: "0.480",
        9: "0.482",
        10: "0.479",
        11: "0.479",
    }
)
