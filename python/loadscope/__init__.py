"""Loadscope: write Mixture-of-Experts expert-load logs in Loadscope's run-folder format (docs/run-format.md)."""
from .writer import RunWriter, LockHeld, max_vio

__all__ = ["RunWriter", "LockHeld", "max_vio"]
__version__ = "0.1.0"
