"""Comparing designs and presenting them: tables, charts and reports for budget proposals."""
