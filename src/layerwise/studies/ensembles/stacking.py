"""Stacking's two combiners, fitted on members' probabilities: a scikit-learn
meta-learner per repeat (`meta_stack`) and the integrated network's trainable head, one
per repeat, trained as replicas (`integrated_head`). Used by the stacking method and by
the one-budget comparison.
"""

from __future__ import annotations

import numpy as np

from layerwise.engine import ReplicaMLP
from layerwise.pipeline.models import mlp_layers
from layerwise.pipeline.progress import Progress
from layerwise.pipeline.seeds import seed_for
from layerwise.studies.ensembles import combiners as comb
from layerwise.studies.ensembles.members import member_optimizer

META_NAMES = {"logistic": "logistic regression", "forest": "random forest"}


def meta_stack(kind, fit_probs, fit_labels, test_probs, n_classes, seed) -> np.ndarray:
    """Per repeat, a scikit-learn meta-learner fitted on the members' stacked probabilities
    (fit_probs [R, M, n, C]) and applied to the test rows': [R, N, C]."""
    return np.stack(
        [
            comb.meta_probabilities(
                comb.fit_meta_learner(
                    comb.stack_features(fit_probs[r]),
                    fit_labels[r],
                    kind,
                    seed_for(seed, "repeat", r),
                ),
                comb.stack_features(test_probs[r]),
                n_classes,
            )
            for r in range(len(fit_probs))
        ]
    )


def integrated_head(sub, fit_probs, fit_labels, test_probs, n_classes, seed, progress):
    """The integrated network's trainable part, one head per repeat, trained as replicas.

    With the members frozen, the network's concatenation layer is a fixed function of
    the input: training frozen members + head is training the head on the members'
    concatenated outputs. Each repeat's rows are laid end to end and `train_index`
    gives every replica its own block.
    """
    R, _, n_fit, _ = fit_probs.shape
    features = np.concatenate([comb.stack_features(p) for p in fit_probs]).astype(np.float32)
    onehot = np.eye(n_classes, dtype=np.float32)[fit_labels.ravel()]
    blocks = np.arange(R * n_fit).reshape(R, n_fit)
    layers = mlp_layers([sub.head_units], "relu", "glorot_uniform", n_classes)
    head = ReplicaMLP.create(features.shape[1], layers, R, seed)
    # a batch larger than the rows is one batch of all rows, as in Keras (the engine's
    # compiled loop wants batch_size <= rows)
    head.fit(
        features,
        onehot,
        epochs=sub.head_epochs,
        optimizer=member_optimizer(sub),
        batch_size=min(sub.batch_size, n_fit),
        seed=seed_for(seed, "order"),
        train_index=blocks,
        on_epoch=Progress("head epochs", sub.head_epochs, show=progress).on_epoch,
    )
    test_features = np.stack([comb.stack_features(p) for p in test_probs])
    return head.predict(test_features)
