"""A deterministic reference run of a tiny city with every tool kind, and its committed figures.

``tests/test_golden.py`` compares a fresh run with ``tests/golden/tiny_city.json``.
A change that moves any mechanism moves these figures, so the golden file is
regenerated only deliberately, after checking that the new figures are the
intended consequence of the change (say so in the commit message):

    python tests/golden_run.py --regenerate

Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import dataclasses

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import build, small_city  # noqa: E402
from model.rng import RandomStreams  # noqa: E402
from model.simulation import simulate_replication  # noqa: E402
from model.summary import replication_summary  # noqa: E402
from model.sectors import SECTORS  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "tiny_city.json"
SEED = 7
SCALE = 1.0

TOOLS = {
    "vouchers": {"kind": "voucher", "sectors": ["catering", "daily_goods"], "face_value_yuan": 20.0,
                 "threshold_yuan": 100.0, "budget_yuan": 150000.0, "start_date": "2023-03-03", "end_date": "2023-04-14",
                 "release_every_days": 7, "validity_days": 7, "merchant_cofunding_share": 0.25,
                 "funding_shares": {"city": 0.6, "county": 0.4}},
    "cars": {"kind": "car_subsidy", "subsidy_per_car_yuan": 6000.0, "budget_yuan": 400000.0,
             "start_date": "2023-04-01", "end_date": "2023-05-31", "dealer_top_n": 2, "dealer_reward_yuan": 20000.0},
    "appliances": {"kind": "appliance_trade_in", "subsidy_rate": 0.15, "max_subsidy_per_item_yuan": 500.0,
                   "min_item_age_years": 6.0, "merchant_discount_rate": 0.05, "budget_yuan": 150000.0,
                   "start_date": "2023-03-15", "end_date": "2023-05-15"},
    "night": {"kind": "night_market", "night_allowance_per_m2": 0.5, "max_allowance_per_merchant_night_yuan": 80.0,
              "consumer_discount_face_yuan": 10.0, "consumer_discount_threshold_yuan": 50.0, "budget_yuan": 100000.0,
              "start_date": "2023-05-01", "end_date": "2023-06-15"},
    "tourism": {"kind": "tourism_voucher", "face_value_yuan": 50.0, "budget_yuan": 60000.0,
                "start_date": "2023-04-01", "end_date": "2023-04-30"},
    "fuel": {"kind": "fuel_coupon", "face_value_yuan": 50.0, "self_drive_visitor_share": 0.4,
             "fuel_per_visit_yuan": 200.0, "budget_yuan": 20000.0, "start_date": "2023-05-01", "end_date": "2023-05-31"},
    "local_trips": {"kind": "resident_tourism", "face_value_yuan": 50.0, "budget_yuan": 20000.0,
                    "trips_per_household_per_year": 2.0, "ticket_discount_share": 0.2, "lodging_discount_share": 0.1,
                    "campaign_trip_uplift_share": 0.05, "trip_lodging_yuan": 300.0, "trip_tickets_yuan": 100.0,
                    "trip_catering_yuan": 150.0, "trip_goods_yuan": 60.0,
                    "start_date": "2023-04-01", "end_date": "2023-05-31"},
    "sports": {"kind": "sports_voucher", "face_value_yuan": 20.0, "spend_per_use_yuan": 100.0, "goods_share": 0.3,
               "budget_yuan": 10000.0, "start_date": "2023-03-01", "end_date": "2023-04-30"},
    "canteens": {"kind": "purchasing_quota", "budget_yuan": 0.0, "purchases_yuan_per_year": 2000000.0,
                 "quota_share": 0.3, "share_meeting_quota_before": 0.1, "compliance_share": 0.8,
                 "local_seller_share": 0.8, "local_share_before": 0.6,
                 "start_date": "2023-03-01", "end_date": "2023-06-30"},
    "night_buses": {"kind": "night_access", "budget_yuan": 10000.0, "stall_cost_reduction_share": 0.2,
                    "parking_saving_per_visit_yuan": 2.0, "bus_saving_per_visit_yuan": 1.0,
                    "bus_subsidy_per_night_yuan": 100.0, "start_date": "2023-05-15", "end_date": "2023-06-30"},
    "morning": {"kind": "morning_market", "budget_yuan": 10000.0, "market_share_of_spending": 0.05,
                "discount_face_yuan": 5.0, "discount_threshold_yuan": 30.0,
                "start_date": "2023-04-01", "end_date": "2023-05-31"},
    "promotion": {"kind": "firm_promotion", "budget_yuan": 0.0, "sectors": ["fuel", "daily_goods"],
                  "discount_share": 0.05, "participating_sales_share": 0.3,
                  "start_date": "2023-06-01", "end_date": "2023-06-14"},
}

#: Each newer kind's own summary figures (``tools.NAME.<entry>.<figure>``), so a change to its mechanism
#: moves the golden file even where its effect on the city's totals is small.
KIND_FIGURES = {
    "resident_trips": ("extra_trips", "new_retail_sales", "non_retail_sales_change"),
    "sports": ("new_purchase_share", "new_services_outside_retail", "new_retail_sales"),
    "purchasing_quota": ("purchases_moved", "retail_sales_change"),
    "night_access": ("nights", "bus_nights"),
    "morning_market": ("discounted_transactions", "induced_sales", "pulled_forward"),
    "promotion": ("induced_sales", "pulled_forward", "firms_discount"),
}


def golden_figures() -> dict[str, float]:
    """The reference run's figures: flat, named, in yuan, units or vouchers."""
    raw = small_city(households=3000, start="2023-02-01", end="2023-06-30", tools=TOOLS)
    # Documented behaviour values, not the committed estimate: the golden figures move with the mechanisms only,
    # not each time the behaviour is re-estimated (tests/test_committed_estimate.py checks the estimate).
    scenario = dataclasses.replace(build(raw), behaviour_choice="documented")
    pair = simulate_replication(scenario, SCALE, RandomStreams.from_seed(SEED), tool_breakdown=False)
    pol, base = pair.policy, pair.baseline
    summary = replication_summary(pair)
    out: dict[str, float] = {}
    for key in ("retail_sales_baseline", "retail_sales_policy", "retail_sales_uplift", "retail_sales_uplift_with_payback",
                "government_outlay", "merchant_cofunding", "gross_leverage", "net_leverage", "net_leverage_with_payback",
                "household_benefit"):
        out[key] = summary[key]
    for i, sector in enumerate(SECTORS):
        out[f"baseline.{sector}"] = float(base.books.retail[:, :, i].sum())
        out[f"uplift.{sector}"] = summary["uplift_by_sector"][sector]
        out[f"supported_any.{sector}"] = float(pol.books.supported_any[:, i].sum())
    for key, value in summary["non_retail_uplift"].items():
        out[f"uplift.{key}"] = value
    for key in ("measured_uplift", "channel_switching"):
        out[f"platform.{key}"] = summary["platform"][key]
    out["uplift_above_quota_share"] = summary["uplift_above_quota_share"]
    for name, tool in summary["tools"].items():
        for key in ("outlay", "supported_sales", "merchant_cofunding"):
            out[f"tools.{name}.{key}"] = tool[key]
        if "vouchers" in tool:
            out[f"tools.{name}.redeemed"] = tool["vouchers"]["redeemed"]
            out[f"tools.{name}.issued"] = tool["vouchers"]["issued"]
        for entry, keys in KIND_FIGURES.items():
            for key in keys:
                if entry in tool:
                    out[f"tools.{name}.{entry}.{key}"] = tool[entry][key]
    for model, label in ((pol, "policy"), (base, "baseline")):
        books = model.books_with_payback
        out[f"{label}.cars_sold"] = float(books.cars_sold.sum())
        out[f"{label}.appliances_sold"] = float(books.appliances_sold.sum())
        out[f"{label}.night_merchants_open"] = float(books.night_merchants_open.sum())
        out[f"{label}.savings_end"] = float(model.households.savings_yuan.sum())
        out[f"{label}.deferred_scheduled"] = model.deferred.scheduled_total_yuan
        out[f"{label}.deferred_lost_to_floor"] = model.deferred.lost_to_floor_yuan
        out[f"{label}.windfall_set_aside"] = model.savings_ledger.windfall_spent_yuan
        out[f"{label}.voucher_cash"] = model.savings_ledger.voucher_cash_yuan
    out["dealer_rewards"] = float(sum(d.rewards_yuan for d in pol.car_dealers))
    return {k: float(v) if v is not None else None for k, v in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--regenerate", action="store_true", help=f"rewrite {GOLDEN.relative_to(ROOT)}")
    args = parser.parse_args()
    figures = golden_figures()
    if args.regenerate:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN.relative_to(ROOT)} ({len(figures)} figures)")
    else:
        print(json.dumps(figures, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
