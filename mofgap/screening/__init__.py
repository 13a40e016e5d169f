"""Screening: rank candidate MOFs by acquisition functions of their predicted gap and uncertainty."""

from mofgap.screening.acquisition import ACQUISITIONS, Objective, acquisition_parts
from mofgap.screening.rank import rank

__all__ = ["ACQUISITIONS", "Objective", "acquisition_parts", "rank"]
