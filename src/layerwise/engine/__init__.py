"""The study-agnostic training engine: R independent replicas of one MLP trained together
in one compiled TensorFlow program. It knows nothing of params, stages or studies; it
raises ValueError/TypeError for bad arguments.

Modules, from the bottom up (each imports only those above it):
  backend     TensorFlow (imported first, by this package) and Keras, without the extras
              Keras imports that nothing here runs and without TensorFlow's start-up notices
  layers      layer specs (`Dense`, `Head`), initial weights, trainable flags
  schedules   learning-rate schedules (`cosine_annealing`, `cycle_ends`)
  ops         tensor operations on all replicas at once: forward pass, losses, scores
  optimizers  one class per optimizer (`SGD`, `Adam`): checked constants, typed state
              (count and slots), update step; `optimizer` builds one by name
  parallel    threads, replica groups, `side_by_side`
  program     the static program description and the compiled multi-epoch function
  fit         a fit: epochs fed to the compiled program group by group; `History`
  export      .npz archives and Keras models in and out
  model       `ReplicaMLP`, the model users hold: state, freezing, growing, copying
"""

# first: every module below imports TensorFlow, which backend loads without Keras and
# without its start-up notices
from layerwise.engine import backend  # noqa: F401
from layerwise.engine.fit import History
from layerwise.engine.layers import Dense, Head
from layerwise.engine.model import ReplicaMLP
from layerwise.engine.optimizers import (
    SGD,
    Adam,
    AdamState,
    Optimizer,
    SGDState,
    optimizer,
    optimizer_constants,
)
from layerwise.engine.parallel import default_threads, fit_threads, side_by_side
from layerwise.engine.schedules import cosine_annealing, cycle_ends

__all__ = [
    "SGD",
    "Adam",
    "AdamState",
    "Dense",
    "Head",
    "History",
    "Optimizer",
    "ReplicaMLP",
    "SGDState",
    "cosine_annealing",
    "cycle_ends",
    "default_threads",
    "fit_threads",
    "optimizer",
    "optimizer_constants",
    "side_by_side",
]
