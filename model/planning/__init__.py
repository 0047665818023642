"""Planning tools built on runs of the model: the budget a target needs (``target.py``).

Comparing designs side by side is ``model/reporting/compare.py``.
"""
