"""Sweeps: many DVC experiments of this pipeline read side by side (the sweep report)."""
