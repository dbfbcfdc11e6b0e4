"""Helpers of the differential test against Piccolo (``tests/test_differential.py``)."""
