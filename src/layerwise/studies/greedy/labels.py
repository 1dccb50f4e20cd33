"""The names the greedy study gives its methods: the `method` column of its CSVs and the
report's row labels (kept apart from the training code so the report needs no TensorFlow)."""

GREEDY = "greedy"
CONTROL = "end-to-end"
FINE_TUNED = "greedy + fine-tune"
PRETRAINED_FROZEN = "pretrained, frozen encoder"
PRETRAINED_TUNED = "pretrained, fine-tuned"
SCRATCH = "supervised from scratch"
