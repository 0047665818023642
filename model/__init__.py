"""An agent-based simulator of city consumption-promotion policies.

Households and merchants are numpy columns, government funds and car dealers
are Mesa agents, and ``CityEconomy`` (a Mesa model) steps them one day at a
time. ``run_scenario`` runs a scenario against its no-policy counterfactual.
"""

__version__ = "0.1.0"
