"""The study-agnostic training engine: R independent replicas of one MLP trained together
in one compiled TensorFlow program. It knows nothing of params, stages or studies; it
raises ValueError/TypeError for bad arguments.

Modules, from the bottom up (each imports only those above it):
  backend     TensorFlow, imported first, without its C++ start-up notices on stderr
  layers      layer specs (`Dense`, `Head`), initial weights, trainable flags
  schedules   learning-rate schedules (`cosine_annealing`, `cycle_ends`)
  ops         tensor operations on all replicas at once: forward pass, losses, scores
  optimizers  one class per optimizer (`SGD`, `Adam`): constants, slots, update step
  parallel    threads, replica groups, `side_by_side`
  program     the static program description and the compiled multi-epoch function
  fit         a fit: epochs fed to the compiled program group by group; `History`
  export      .npz archives and Keras models in and out
  model       `ReplicaMLP`, the model users hold: state, freezing, growing, copying
"""

# first: TensorFlow loads here, its start-up notices held back (see backend)
from layerwise.engine import backend  # noqa: F401
from layerwise.engine.fit import History
from layerwise.engine.layers import Dense, Head
from layerwise.engine.model import ReplicaMLP
from layerwise.engine.optimizers import SGD, Adam, Optimizer, optimizer
from layerwise.engine.parallel import default_threads, fit_threads, side_by_side
from layerwise.engine.schedules import cosine_annealing, cycle_ends

__all__ = [
    "SGD",
    "Adam",
    "Dense",
    "Head",
    "History",
    "Optimizer",
    "ReplicaMLP",
    "cosine_annealing",
    "cycle_ends",
    "default_threads",
    "fit_threads",
    "optimizer",
    "side_by_side",
]
