"""Tongchou (统筹): unified planning and scheduling for multi-level government clouds."""

__version__ = "0.1.0"
