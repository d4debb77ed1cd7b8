"""Edge Vision Notebooks: shared code for data, models, metrics and benchmarks."""

__version__ = "0.1.0"
