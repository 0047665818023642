"""An agent-based simulator of city consumption-promotion policies.

Households and merchants are numpy columns, each policy tool is one module in
``model/tools/`` found by a registry, and ``CityEconomy`` (a Mesa model) applies
the behaviour rules (``model/rules/``) and the tools one day at a time.
``run_scenario`` runs a scenario against its no-policy counterfactual.
"""

__version__ = "0.1.0"
