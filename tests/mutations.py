"""Mutation testing of the model's mechanisms: does some test fail when a mechanism breaks?

Each entry of ``MUTATIONS`` breaks one economic rule or accounting check the
way a plausible bug would. It is located by a code pattern (an exact piece of
source that must occur once in its file), never by line number, so the list
survives edits; a pattern that no longer matches is reported, not skipped.
Mutations are applied one at a time to a temporary copy of the project, the
tests that should catch each are run there, and a table is printed: mutation,
file:line, the first test that failed ("caught by"), and killed or survived.

    python tests/mutations.py            # all mutations (about 15 minutes on a busy 2-core machine)
    python tests/mutations.py --list     # the list only
    python tests/mutations.py -k pull    # those whose name contains "pull"

Exit status 1 when any mutation survives or its pattern is missing. Keep the
list current as rules change: every file in model/rules/ and the accounting
has at least two mutations, and so does every tool kind in model/tools/. Not
collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = "tests/test_golden.py"


@dataclass(frozen=True)
class Mutation:
    """One broken mechanism.

    Attributes:
        name: what the mutation does, in the domain's words.
        path: the file it changes, relative to the project root.
        pattern: exact source text that must occur exactly once in the file.
        replacement: what replaces it.
        tests: pytest node ids that should catch it, most specific first.
    """

    name: str
    path: str
    pattern: str
    replacement: str
    tests: tuple[str, ...]


MUTATIONS: tuple[Mutation, ...] = (
    # ---------------------------------------------------------------- rules/spending.py
    Mutation("cell sums drawn with twice their mean", "model/rules/spending.py",
             "self._gamma_scale = np.where(mean > 0, var / mean, 1.0)",
             "self._gamma_scale = np.where(mean > 0, 2 * var / mean, 1.0)",
             ("tests/test_determinism_and_scale.py::test_scale_point_one_agrees_with_scale_one_within_sampling_noise",
              GOLDEN)),
    Mutation("cell sums drawn with no spread (variance ignored)", "model/rules/spending.py",
             "var = np.maximum(variance, 1e-12 * mean * mean)", "var = 1e-12 * mean * mean",
             (GOLDEN,)),
    Mutation("deferred spending never stops at the end of its window", "model/rules/spending.py",
             "np.add.at(self._diff[end], cells, -rate)", "pass",
             ("tests/test_stock_flow.py", GOLDEN)),
    Mutation("deferred spending realised is not recorded", "model/rules/spending.py",
             "self.realised_yuan += float((flows - drawn).sum())", "self.realised_yuan += 0.0",
             ("tests/test_mechanisms.py::test_voucher_schedules_pull_forward_and_windfall_spending",
              "tests/test_accounting.py::test_accounting_holds_for_random_scenarios")),
    # ---------------------------------------------------------------- tools/voucher.py
    Mutation("voucher pull-forward payback removed", "model/tools/voucher.py",
             "paid_back[:, col] = -share * pulled_base[in_sector] * weight", "paid_back[:, col] = 0.0 * pulled_base[in_sector] * weight",
             ("tests/test_mechanisms.py::test_voucher_schedules_pull_forward_and_windfall_spending", GOLDEN)),
    Mutation("earmarked voucher value never spent on pricier items", "model/rules/voucher_response.py",
             "return earmark_share * np.maximum(face_yuan - induced_yuan, 0.0)", "return 0.0 * induced_yuan",
             ("tests/test_voucher_response.py::test_earmarked_value_is_a_share_of_what_the_voucher_saves",
              "tests/test_voucher_response.py::test_earmarked_saving_is_spent_in_the_voucher_sectors_within_its_window",
              GOLDEN)),
    Mutation("a voucher trip's own cost ignored", "model/rules/voucher_response.py",
             "> trip_cost_yuan + shortfall * unvalued_share", "> shortfall * unvalued_share",
             ("tests/test_voucher_response.py::test_a_voucher_trip_is_made_when_the_face_value_beats_its_cost_and_the_unvalued_top_up",
              "tests/test_voucher_response.py::test_a_costly_trip_means_fewer_redemptions_and_less_extra_spending_per_yuan")),
    Mutation("a voucher trip weighs the whole basket as unvalued", "model/rules/voucher_response.py",
             "shortfall = expected_shortfall_yuan(threshold_yuan, basket_mean_yuan, sigma)",
             "shortfall = threshold_yuan + basket_mean_yuan",
             ("tests/test_voucher_response.py::test_a_voucher_trip_is_made_when_the_face_value_beats_its_cost_and_the_unvalued_top_up",
              GOLDEN)),
    Mutation("vouchers for every sector earmarked like labelled ones", "model/rules/voucher_response.py",
             "return not retail <= set(voucher_sectors)", "return True",
             ("tests/test_voucher_response.py::test_only_a_voucher_for_some_sectors_carries_a_label",
              "tests/test_mechanisms.py::test_threshold_voucher_moves_more_spending_per_yuan_than_a_no_threshold_voucher")),
    Mutation("windfall from a voucher never spent", "model/tools/voucher.py",
             "spent_later = mpc * gain", "spent_later = 0.0 * gain",
             ("tests/test_mechanisms.py::test_voucher_schedules_pull_forward_and_windfall_spending",
              "tests/test_mechanisms.py::test_threshold_voucher_moves_more_spending_per_yuan_than_a_no_threshold_voucher",
              GOLDEN)),
    Mutation("merchant co-funding not subtracted from booked sales", "model/tools/voucher.py",
             "(induced[in_sector] - cofund[in_sector]) * weight", "(induced[in_sector]) * weight",
             (GOLDEN,)),
    Mutation("holders always top up to the threshold", "model/tools/voucher.py",
             "tops_up = has_trip & ~meets_threshold & (worth_keeping > (threshold - planned_ticket) * "
             "unvalued_share_by_col[col])",
             "tops_up = has_trip & ~meets_threshold",
             (GOLDEN,)),
    Mutation("no loss aversion on a voucher's last day", "model/tools/voucher.py",
             "np.where(days_left == 0, self.model.params.voucher_loss_aversion, 1.0)", "np.where(days_left == 0, 1.0, 1.0)",
             (GOLDEN,)),
    Mutation("a pack hands one coupon per claim", "model/tools/voucher.py",
             "coupons = np.full(chosen.size, per_claim)", "coupons = np.full(chosen.size, 1)",
             ("tests/test_voucher_packs.py::test_a_pack_of_coupons_is_used_on_several_transactions_and_brings_more_per_yuan",)),
    Mutation("one voucher a household a day again", "model/tools/voucher.py",
             "            first_round = False\n", "            break\n",
             ("tests/test_voucher_packs.py::test_a_pack_of_coupons_is_used_on_several_transactions_and_brings_more_per_yuan", GOLDEN)),
    Mutation("a stored-value voucher's whole balance goes on its first transaction", "model/tools/voucher.py",
             "np.minimum(balance_yuan, transaction) if self.tool.stored_value", "balance_yuan.copy() if self.tool.stored_value",
             ("tests/test_voucher_packs.py::test_a_stored_value_voucher_is_spent_down_over_several_transactions",)),
    Mutation("a stored-value voucher's partial draws not booked", "model/tools/voucher.py",
             "counts.partial_value_yuan[day] += (", "counts.partial_value_yuan[day] += 0.0 * (",
             ("tests/test_voucher_packs.py::test_a_stored_value_voucher_is_spent_down_over_several_transactions",)),
    Mutation("channel switching onto the voucher platform not booked", "model/tools/voucher.py",
             "model.books.switch_to_platform(day, switched)", "pass",
             ("tests/test_voucher_packs.py::test_platform_sales_are_total_sales_plus_channel_switching_less_other_channels",)),
    Mutation("extra sales booked at the participants' size split whatever the basket", "model/tools/voucher.py",
             "model.books.book_sales(day, cells[in_sector], sector, online[in_sector], above,",
             "model.books.book_sales(day, cells[in_sector], sector, online[in_sector], self.participants_above_quota_share[col],",
             ("tests/test_voucher_packs.py::test_share_of_extra_sales_at_large_merchants_rises_with_the_threshold",)),
    # ---------------------------------------------------------------- rules/voucher_response.py (several held)
    Mutation("a household holding several coupons waits as if it held one", "model/rules/voucher_response.py",
             "return binom.sf(np.maximum(coupons_held, 1) - 1, np.maximum(days_left, 0), p)",
             "return binom.sf(0 * coupons_held, np.maximum(days_left, 0), p)",
             ("tests/test_voucher_packs.py::test_several_coupons_held_make_waiting_worth_less",
              "tests/test_voucher_packs.py::test_a_pack_of_coupons_is_used_on_several_transactions_and_brings_more_per_yuan")),
    Mutation("a stored-value balance ignores later planned spending", "model/rules/voucher_response.py",
             "later = np.maximum(days_left, 0) * np.maximum(daily_usable_spend_yuan, 0.0)",
             "later = 0.0 * np.maximum(daily_usable_spend_yuan, 0.0)",
             ("tests/test_voucher_packs.py::test_several_coupons_held_make_waiting_worth_less",)),
    # ---------------------------------------------------------------- rules/merchant_choice.py
    Mutation("basket size does not steer the merchant chosen", "model/rules/merchant_choice.py",
             "log_odds = np.log(safe / (1.0 - safe)) + elasticity * np.log(",
             "log_odds = np.log(safe / (1.0 - safe)) + 0.0 * elasticity * np.log(",
             ("tests/test_voucher_packs.py::test_bigger_baskets_go_more_often_to_large_merchants",
              "tests/test_voucher_packs.py::test_share_of_extra_sales_at_large_merchants_rises_with_the_threshold")),
    Mutation("bigger baskets go to small merchants", "model/rules/merchant_choice.py",
             "return np.where(inner, 1.0 / (1.0 + np.exp(-log_odds)), base)",
             "return np.where(inner, 1.0 / (1.0 + np.exp(log_odds)), base)",
             ("tests/test_voucher_packs.py::test_bigger_baskets_go_more_often_to_large_merchants",)),
    # ---------------------------------------------------------------- households.py (windfall rule)
    Mutation("windfall spending no longer depends on savings", "model/households.py",
             "-months / params.windfall_mpc_savings_scale_months)", "-0.0 * months / params.windfall_mpc_savings_scale_months)",
             ("tests/test_mechanisms.py::test_windfall_propensity_falls_with_liquid_savings", GOLDEN)),
    # ---------------------------------------------------------------- rules/durables.py
    Mutation("car subsidy adds sales on top of the waiting pool (subsidised buyers stay in the market)",
             "model/rules/durables.py", "keep[buying] = False", "keep[buying] = ~subsidised",
             ("tests/test_mechanisms.py::test_car_subsidy_pulls_purchases_forward_and_leaves_a_dip", GOLDEN)),
    Mutation("a subsidy brings no planned purchases forward", "model/rules/durables.py",
             "p = -np.expm1(-extra_rate / self.horizon_days)", "p = 0.0 * extra_rate",
             ("tests/test_durables.py::test_no_purchase_planned_beyond_the_horizon_is_moved", GOLDEN)),
    Mutation("a subsidy brings forward purchases planned beyond the horizon (any age, as before)",
             "model/rules/durables.py",
             "self._plan_for(day + self.horizon_days, rng)",
             "self._plan_for(day + self.horizon_days, rng)\n        if any(e.subsidises(self.kind, day) for e in "
             "self.model.tool_effects.values()):\n            self._plan_for(day + 3 * self.horizon_days, "
             "self.model.streams.get('beyond', day))",
             ("tests/test_durables.py::test_no_purchase_planned_beyond_the_horizon_is_moved",
              "tests/test_durables.py::test_car_subsidy_extra_sales_are_mostly_reversed_within_twelve_months")),
    Mutation("planned purchases enter the market on the day they are planned (no horizon)", "model/rules/durables.py",
             "self._add_plans(rows[enter], items[enter], target_day, {k: v[enter] for k, v in draws.items()})",
             "self._add_plans(rows[enter], items[enter], target_day - self.horizon_days + 1, "
             "{k: v[enter] for k, v in draws.items()})",
             ("tests/test_durables.py::test_no_purchase_planned_beyond_the_horizon_is_moved", GOLDEN)),
    Mutation("planned-purchase bound depends on the design", "model/rules/durables.py",
             "bound_day = self.bound_per_year * max(multiplier, 0.0) / DAYS_PER_YEAR",
             "bound_day = self.bound_per_year * max(multiplier, 0.0) * (1.0 + 0.2 * len(self.model.scenario.tools))"
             " / DAYS_PER_YEAR",
             ("tests/test_counterfactual.py",)),
    Mutation("windfalls never bring purchases forward", "model/rules/durables.py",
             "np.add.at(self.windfall_pending_yuan, rows, np.broadcast_to(windfall_yuan, rows.shape))", "pass",
             ("tests/test_durables.py::test_windfall_brings_forward_planned_purchases_with_the_stated_probability",
              "tests/test_durables.py::test_cash_transfer_spends_part_of_itself_on_durables_brought_forward")),
    Mutation("a windfall's pull ignores its size", "model/rules/durables.py",
             "return -np.expm1(-intensity * np.maximum(windfall_yuan, 0.0) / max(cash_needed_yuan, 1e-9))",
             "return -np.expm1(-intensity * np.ones_like(windfall_yuan))",
             ("tests/test_durables.py::test_windfall_brings_forward_planned_purchases_with_the_stated_probability",)),
    Mutation("every eligible buyer claims (take-up ignored)", "model/rules/durables.py",
             'claims = ((pool.column("claim")[buying] < self.take_up)',
             'claims = ((pool.column("claim")[buying] < 1.0)',
             ("tests/test_durables.py::test_take_up_below_one_lowers_outlay_at_the_same_sales", GOLDEN)),
    Mutation("take-up changes who buys (non-claimers drop out)", "model/rules/durables.py",
             "affordable = hh.savings_yuan[rows[buying]] >= cash_needed",
             "affordable = (hh.savings_yuan[rows[buying]] >= cash_needed) & ((pool.column('claim')[buying] "
             "< self.take_up) | (gov_expected == 0))",
             ("tests/test_durables.py::test_take_up_below_one_lowers_outlay_at_the_same_sales",)),
    Mutation("planned-purchase stock not counted when brought forward", "model/rules/durables.py",
             "self.ledger.pulled_by_subsidy += int(rows.size)", "pass",
             ("tests/test_durables.py::test_planned_purchase_stocks_add_up_and_tampering_is_caught",
              "tests/test_accounting.py::test_accounting_holds_for_random_scenarios")),
    Mutation("used cars keep their value whatever their age", "model/rules/durables.py",
             "return (price_yuan * np.exp(-params.used_car_depreciation_per_year * np.maximum(age_years, 0.0))",
             "return (price_yuan * np.exp(-0.0 * np.maximum(age_years, 0.0))",
             ("tests/test_durables.py::test_scrap_or_sell_share_follows_the_used_car_value_against_the_subsidy",
              "tests/test_durables.py::test_scrappage_subsidy_is_claimed_only_when_scrapping_beats_selling")),
    Mutation("trade-in pays for items of any age", "model/tools/appliance_trade_in.py",
             "eligible = age_years >= tool.min_item_age_years", "eligible = age_years >= 0.0",
             ("tests/test_mechanisms.py::test_appliance_trade_in_only_pays_households_with_an_old_item",)),
    Mutation("buyers need no savings for the down payment", "model/rules/durables.py",
             "affordable = hh.savings_yuan[rows[buying]] >= cash_needed",
             "affordable = np.ones(buying.size, dtype=bool)",
             ("tests/test_durables.py::test_a_shopper_whose_savings_fall_short_gives_up_after_the_wait",
              "tests/test_accounting.py::test_negative_savings_and_broken_breakdowns_are_caught",
              "tests/test_accounting.py::test_accounting_holds_for_random_scenarios", GOLDEN)),
    Mutation("a windfall or subsidy brings forward purchases the household cannot pay", "model/rules/durables.py",
             "pulled[at] = self.can_pay(self.plan_rows[at], self.plan_items[at], day,",
             "pulled[at] = True | self.can_pay(self.plan_rows[at], self.plan_items[at], day,",
             ("tests/test_durables.py::test_a_windfall_brings_forward_only_the_purchases_the_household_can_pay_for",)),
    Mutation("the savings check counts a scrapping buyer's used value, not the recycler's price",
             "model/rules/durables.py",
             "proceeds = np.where(scrap_expected, params.car_scrap_value_yuan, old_value)", "proceeds = old_value",
             ("tests/test_durables.py::"
              "test_an_owner_scrapping_for_a_subsidy_pays_the_down_payment_less_subsidy_and_scrap_value",)),
    Mutation("every household sets aside a full down payment at the average rate", "model/rules/durables.py",
             "expected += np.where(hh.savings_yuan >= cash, hazard * cash, 0.0)",
             "expected += hazard * self.cash_outlay_yuan",
             ("tests/test_durables.py::test_savings_of_households_outside_the_market_do_not_drift",)),
    Mutation("a used car's value does not go toward the down payment", "model/rules/durables.py",
             "return np.maximum(self.cash_outlay_yuan - self.old_item_value_yuan(rows, items, day, value_z), 0.0)",
             "return np.full(rows.size, self.cash_outlay_yuan)",
             ("tests/test_durables.py::test_old_car_value_goes_toward_the_down_payment",
              "tests/test_durables.py::test_a_planned_purchase_the_household_cannot_pay_is_dropped_when_due")),
    Mutation("a scrapping buyer counts its car's used value, not the recycler's price", "model/rules/durables.py",
             "                scrapped |= got", "                pass",
             ("tests/test_durables.py::"
              "test_an_owner_scrapping_for_a_subsidy_pays_the_down_payment_less_subsidy_and_scrap_value",)),
    Mutation("households enter the market whether or not they can pay", "model/rules/durables.py",
             'paying = self.can_pay(rows, items, day, draws["value_z"])', "paying = np.ones(rows.size, dtype=bool)",
             ("tests/test_durables.py::test_a_planned_purchase_the_household_cannot_pay_is_dropped_when_due",
              "tests/test_durable_warmup.py")),
    Mutation("the first day's market holds households that cannot pay", "model/rules/durables.py",
             'paying = self.can_pay(rows, items, 0, draws["value_z"])', "paying = np.ones(rows.size, dtype=bool)",
             ("tests/test_durable_warmup.py::test_the_first_day_market_is_the_stationary_one",)),
    Mutation("the first day's shoppers have saved nothing while shopping", "model/rules/durables.py",
             "hh.savings_yuan[rows] += np.maximum(surplus_month, 0.0) * in_market_days / DAYS_PER_MONTH",
             "hh.savings_yuan[rows] += 0.0 * in_market_days",
             ("tests/test_durables.py::test_the_first_day_shoppers_have_saved_while_shopping",)),
    Mutation("a shopper who cannot pay never gives up", "model/rules/durables.py",
             "leaving = short[day - entered >= self.saving_wait_days]", "leaving = short[:0]",
             ("tests/test_durables.py::test_a_shopper_whose_savings_fall_short_gives_up_after_the_wait",)),
    Mutation("give-ups are not counted in the market's stock", "model/rules/durables.py",
             "self.ledger.gave_up += int(leaving.size)", "pass",
             ("tests/test_durables.py::test_give_ups_are_in_the_stock_identity_and_tampering_is_caught",
              "tests/test_durables.py::test_a_shopper_whose_savings_fall_short_gives_up_after_the_wait")),
    # ---------------------------------------------------------------- rules/night_economy.py
    Mutation("night allowance's supported sales doubled", "model/tools/night_market.py",
             'model.books.supported(self.tool.name)[day, SECTOR_INDEX["night_market"]] += total_night_yuan * supported',
             'model.books.supported(self.tool.name)[day, SECTOR_INDEX["night_market"]] += 2 * total_night_yuan * supported',
             ("tests/test_gross_leverage.py::test_night_allowance_supports_the_sales_of_the_merchants_it_paid_not_the_whole_city",)),
    Mutation("no night spending is moved from the daytime", "model/rules/night_economy.py",
             "moved = (1.0 - params.night_new_spending_share) * extra", "moved = 0.0 * extra",
             ("tests/test_mechanisms.py::test_night_allowance_raises_merchants_open_late",)),
    Mutation("merchants ignore the allowance when deciding to open late", "model/rules/night_economy.py",
             "self.share + support > self.cost", "self.share + 0.0 * support > self.cost",
             ("tests/test_mechanisms.py::test_night_allowance_raises_merchants_open_late",)),
    # ---------------------------------------------------------------- rules/visitors.py
    Mutation("tourism vouchers draw no extra visits", "model/tools/tourism_voucher.py",
             "extra = p.tourism_voucher_inflow_elasticity * handed", "extra = 0.0 * handed",
             ("tests/test_mechanisms.py::test_tourism_voucher_raises_visits_and_lodging",)),
    Mutation("every tourism voucher handed out is used", "model/tools/tourism_voucher.py",
             "used = handed * p.tourism_voucher_redemption_rate", "used = handed",
             ("tests/test_mechanisms.py::test_tourism_voucher_raises_visits_and_lodging", GOLDEN)),
    Mutation("tourism voucher supports lodging and tickets as 社零", "model/tools/tourism_voucher.py",
             "{sector: used * spend.get(sector, 0.0) for sector in",
             "{sector: used * sum(spend.values()) / 2 for sector in",
             ("tests/test_gross_leverage.py::test_tourism_voucher_supports_the_retail_spending_of_visits_that_used_one",)),
    Mutation("visitors' lodging booked as 社零 catering", "model/rules/visitors.py",
             'amount = total * self.spend.get(sector, 0.0)',
             'amount = total * (self.spend.get(sector, 0.0) + (self.spend.get("lodging", 0.0) if sector == "catering" else 0.0))',
             ("tests/test_mechanisms.py::test_tourism_voucher_raises_visits_and_lodging", GOLDEN)),
    Mutation("extra visits a tool brings are not booked", "model/rules/visitors.py",
             "total = visits + extra_visits", "total = visits + 0.0 * extra_visits",
             ("tests/test_mechanisms.py::test_tourism_voucher_raises_visits_and_lodging",)),
    Mutation("night tools' supported shares added, not combined as a union", "model/rules/night_economy.py",
             "unsupported *= 1.0 - supported", "unsupported -= supported",
             ("tests/test_gross_leverage.py::test_night_sales_paid_for_by_two_tools_count_once",)),
    # ---------------------------------------------------------------- government.py (pacing)
    Mutation("a tranche not yet released can be spent", "model/government.py",
             "return float(self.release_yuan[: self._tranche + 1].sum())", "return float(self.release_yuan.sum())",
             ("tests/test_pacing.py::test_a_tranche_not_yet_released_cannot_be_spent",)),
    Mutation("unspent tranche money never lapses", "model/government.py",
             "return float(self.release_yuan[self._tranche] - self.paid_by_tranche[self._tranche])",
             "return self.released_yuan - self.paid_yuan",
             ("tests/test_pacing.py::test_without_carry_over_a_tranche_lapses_at_the_next_release",)),
    Mutation("a merchant's cap is not applied to its claims", "model/government.py",
             "claims = np.minimum(np.asarray(amounts_yuan, dtype=float), self.merchant_room(merchants))",
             "claims = np.asarray(amounts_yuan, dtype=float)",
             ("tests/test_pacing.py::test_a_merchant_at_its_cap_receives_nothing_more",)),
    Mutation("a pool short of its tranche stays open", "model/government.py",
             "            self._tranche_closed = True\n", "            pass\n",
             ("tests/test_pacing.py::test_a_tranche_not_yet_released_cannot_be_spent",)),
    Mutation("night allowances offered to merchants at their cap", "model/tools/night_market.py",
             "support = np.minimum(support, self.fund.merchant_room(np.arange(support.size)))", "support = support",
             ("tests/test_pacing.py::test_night_allowance_paid_in_yearly_style_tranches_and_capped_per_merchant",)),
    # ---------------------------------------------------------------- rules/above_quota.py
    Mutation("a merchant entering the 限额以上 directory must pass, not reach, the threshold", "model/rules/above_quota.py",
             "(period_yuan >= threshold_yuan)", "(period_yuan > threshold_yuan * 1.01)",
             ("tests/test_indicators.py::test_above_quota_crossings_by_hand",)),
    Mutation("a period's sales are not annualised", "model/rules/above_quota.py",
             "return self.share * sector_sales[self.sector] * (365.0 / days)",
             "return self.share * sector_sales[self.sector]",
             ("tests/test_indicators.py::test_above_quota_crossings_by_hand",)),
    Mutation("firms' and institutions' purchases counted in merchants' sales", "model/rules/above_quota.py",
             "self.buyer_cells = slice(0, model.institution_cell)", "self.buyer_cells = slice(0, None)",
             ("tests/test_indicators.py::test_above_quota_crossings_by_hand",)),
    # ---------------------------------------------------------------- rules/night_economy.py (24-hour stores)
    Mutation("a store that closes for a night keeps its run of late nights", "model/rules/night_economy.py",
             "counted *= open_tonight", "counted -= ~open_tonight",
             ("tests/test_indicators.py::test_24_hour_store_state_by_hand",)),
    Mutation("any shop open late counts as a 24-hour store", "model/rules/night_economy.py",
             "return int(np.count_nonzero(convenience & (nights >= NIGHTS_OPEN_FOR_24H)))",
             "return int(np.count_nonzero(convenience & (nights >= 1)))",
             ("tests/test_indicators.py::test_24_hour_store_state_by_hand",)),
    # ---------------------------------------------------------------- summary.py (county ranking)
    Mutation("county ranking puts the smallest uplift first", "model/summary.py",
             'order = sorted(districts, key=lambda d: -(districts[d]["uplift_share"] or 0.0))',
             'order = sorted(districts, key=lambda d: (districts[d]["uplift_share"] or 0.0))',
             ("tests/test_indicators.py::test_county_ranking_by_hand",)),
    Mutation("one county more than the plan's top N is rewarded", "model/summary.py",
             '"rewarded": {d: rank[d] <= top_n for d in districts}', '"rewarded": {d: rank[d] <= top_n + 1 for d in districts}',
             ("tests/test_indicators.py::test_county_ranking_by_hand",)),
    # ---------------------------------------------------------------- rules/online_sellers.py
    Mutation("local sellers take the whole statistic from residents", "model/rules/online_sellers.py",
             "share = settings.resident_buyer_share * settings.base_yuan / expected_resident_online",
             "share = settings.base_yuan / expected_resident_online",
             ("tests/test_indicators.py::test_seller_online_retail_by_hand",)),
    Mutation("outside buyers take the whole statistic too", "model/rules/online_sellers.py",
             "(1.0 - settings.resident_buyer_share) * settings.base_yuan", "settings.base_yuan",
             ("tests/test_indicators.py::test_seller_online_retail_by_hand",)),
    Mutation("outside growth ignores the replication's trend shock", "model/rules/online_sellers.py",
             "settings.outside_growth_per_year + settings.outside_growth_sigma * growth_shock",
             "settings.outside_growth_per_year",
             ("tests/test_indicators.py::test_seller_online_retail_by_hand",)),
    Mutation("policy does not reach local sellers through residents' online purchases", "model/rules/online_sellers.py",
             "return share * np.asarray(resident_daily, dtype=float) + outside_daily_yuan",
             "return share * np.asarray(resident_daily, dtype=float)[:1].repeat(len(dates)) + outside_daily_yuan",
             ("tests/test_indicators.py::test_seller_online_retail_in_a_run_follows_residents_purchases",)),
    # ---------------------------------------------------------------- tools/car_subsidy.py
    Mutation("car subsidy ignores the scrappage requirement", "model/tools/car_subsidy.py",
             "eligible &= owns & (age_years >= tool.scrappage_min_age_years)", "eligible &= owns",
             ("tests/test_mechanisms.py::test_car_scrappage_subsidy_pays_only_for_old_cars",)),
    Mutation("every owner of an old car scraps (no scrap-or-sell choice)", "model/tools/car_subsidy.py",
             "return subsidy_yuan + scrap_value_yuan >= used_value_yuan",
             "return np.ones_like(used_value_yuan, dtype=bool)",
             ("tests/test_durables.py::test_scrappage_subsidy_is_claimed_only_when_scrapping_beats_selling",)),
    Mutation("dealer rewards never paid", "model/tools/car_subsidy.py",
             "dealers[i].rewards_yuan += self.fund.pay_merchants(np.array([tool.dealer_reward_yuan]), np.array([i]), day)[1]",
             "pass",
             (GOLDEN,)),
    # ---------------------------------------------------------------- tools/appliance_trade_in.py
    Mutation("rural-only appliance subsidy paid to urban households too", "model/tools/appliance_trade_in.py",
             "eligible &= rural", "eligible &= True",
             ("tests/test_durables.py::test_appliance_subsidy_limited_to_rural_households_or_one_retailer",)),
    Mutation("appliance subsidy paid outside the retailer's channel", "model/tools/appliance_trade_in.py",
             "eligible &= channel_draw < tool.retailer_channel_share", "eligible &= channel_draw < 1.0",
             ("tests/test_durables.py::test_appliance_subsidy_limited_to_rural_households_or_one_retailer",)),
    Mutation("trade-in merchant discount never given", "model/tools/appliance_trade_in.py",
             "np.where(eligible, tool.merchant_discount_rate * price_yuan, 0.0)", "np.where(eligible, 0.0, 0.0)",
             ("tests/test_mechanisms.py::test_appliance_trade_in_only_pays_households_with_an_old_item",)),
    # ---------------------------------------------------------------- tools/night_market.py
    Mutation("night allowance cap per merchant-night ignored", "model/tools/night_market.py",
             "allowance = np.minimum(allowance, tool.max_allowance_per_merchant_night_yuan)", "allowance = allowance",
             ("tests/test_mechanisms.py::test_night_allowance_is_capped_per_merchant_night", GOLDEN)),
    # ---------------------------------------------------------------- tools/fuel_coupon.py
    Mutation("fuel bought by the extra visits not booked", "model/tools/fuel_coupon.py",
             "if extra * tool.fuel_per_visit_yuan > 0:", "if False:",
             ("tests/test_fuel_coupon.py",)),
    Mutation("fuel coupons handed to more drivers than arrive", "model/tools/fuel_coupon.py",
             "handed = min(tool.quantity / days, tool.self_drive_visitor_share * max(visits, 0.0))",
             "handed = tool.quantity / days",
             ("tests/test_fuel_coupon.py::test_only_drivers_get_coupons",)),
    # ---------------------------------------------------------------- tools/resident_tourism.py
    Mutation("residents' extra trips buy only new meals and goods, none displaced from home",
             "model/tools/resident_tourism.py",
             "new_share = 1.0 - p.resident_trip_displaced_share", "new_share = 1.0",
             ("tests/test_resident_tourism.py",)),
    Mutation("venues' price cut not taken off the trips made anyway", "model/tools/resident_tourism.py",
             "- trips_anyway * tool.lodging_discount_share * tool.trip_lodging_yuan)", ")",
             ("tests/test_resident_tourism.py",)),
    Mutation("a local-tourism campaign's publicity adds no trips", "model/tools/resident_tourism.py",
             "+ tool.campaign_trip_uplift_share * trips_anyway)", "+ 0.0 * trips_anyway)",
             ("tests/test_resident_tourism.py",)),
    Mutation("residents' trip lodging booked as supported 社零", "model/tools/resident_tourism.py",
             "self.book_supported(day, {sector: used * getattr(tool, spend_field)",
             "self.book_supported(day, {sector: used * (getattr(tool, spend_field) + tool.trip_lodging_yuan)",
             ("tests/test_resident_tourism.py",)),
    # ---------------------------------------------------------------- tools/sports_voucher.py
    Mutation("every purchase using a sports voucher counted as new", "model/tools/sports_voucher.py",
             "self.new_share = min(1.0, model.params.service_voucher_price_elasticity",
             "self.new_share = 1.0 or min(1.0, model.params.service_voucher_price_elasticity",
             ("tests/test_sports_voucher.py",)),
    Mutation("sports services booked as 社零 goods", "model/tools/sports_voucher.py",
             "new_goods = new * tool.goods_share", "new_goods = new",
             ("tests/test_sports_voucher.py",)),
    Mutation("new sports purchases not capped at all of them", "model/tools/sports_voucher.py",
             "self.new_share = min(1.0,", "self.new_share = min(1e9,",
             ("tests/test_sports_voucher.py::test_a_voucher_worth_the_whole_purchase_makes_every_purchase_new_but_no_more",)),
    # ---------------------------------------------------------------- tools/purchasing_quota.py
    Mutation("quota ignores what was already bought that way", "model/tools/purchasing_quota.py",
             "max(tool.quota_share - tool.share_meeting_quota_before, 0.0)", "tool.quota_share",
             ("tests/test_purchasing_quota.py",)),
    Mutation("moved purchases all counted as new local sales", "model/tools/purchasing_quota.py",
             "change = self.moved_per_day * (tool.local_seller_share - tool.local_share_before)",
             "change = self.moved_per_day * tool.local_seller_share",
             ("tests/test_purchasing_quota.py",)),
    # ---------------------------------------------------------------- tools/night_access.py
    Mutation("free parking and later buses do not change night spending", "model/rules/night_economy.py",
             "multiplier *= 1.0 + params.night_discount_price_elasticity * visit_saving / ticket", "multiplier *= 1.0",
             ("tests/test_night_access.py",)),
    Mutation("looser stall limits cut no stall's cost", "model/tools/night_access.py",
             "np.where(eligible, tool.stall_cost_reduction_share, 0.0)", "np.where(eligible, 0.0, 0.0)",
             ("tests/test_night_access.py",)),
    Mutation("late buses keep running after the pool is empty", "model/tools/night_access.py",
             "and self.fund.pay(tool.bus_subsidy_per_night_yuan, \"bus_operator\", day) > 0)",
             "and self.fund.pay(tool.bus_subsidy_per_night_yuan, \"bus_operator\", day) > 0) or True",
             ("tests/test_night_access.py",)),
    # ---------------------------------------------------------------- tools/firm_promotion.py
    Mutation("a firm promotion pulls nothing forward", "model/tools/base.py",
             "pulled = induced * pull_share[None, :]", "pulled = induced * 0.0",
             ("tests/test_firm_promotion.py",)),
    Mutation("firm promotion's response ignores the sector's elasticity", "model/tools/firm_promotion.py",
             "self.response = np.array([params.promotion_price_elasticity[s] * tool.discount_share",
             "self.response = np.array([1.0 * tool.discount_share",
             ("tests/test_firm_promotion.py",)),
    # ---------------------------------------------------------------- tools/morning_market.py
    Mutation("morning-market discount paid on every transaction, not only those reaching the threshold",
             "model/tools/morning_market.py",
             "transactions = (market + induced) / self.ticket[None, :] * self.count_share[None, :]",
             "transactions = (market + induced) / self.ticket[None, :]",
             ("tests/test_morning_market.py",)),
    Mutation("morning-market discount brings no extra purchases", "model/tools/morning_market.py",
             "induced = market * self.response[None, :]", "induced = market * 0.0",
             ("tests/test_morning_market.py",)),
    # ---------------------------------------------------------------- economy.py (savings, institutions)
    Mutation("institutional purchases ignore the demand conditions", "model/economy.py",
             "if cond.institutions:", "if False:",
             ("tests/test_stock_flow.py::test_institutional_purchases_follow_demand_conditions_unless_a_condition_says_otherwise",)),
    Mutation("savings keep growing by the income left after consumption", "model/economy.py",
             "transfer = (income - consumption - self.expected_durable_cash_month",
             "transfer = (0.0 * income - self.expected_durable_cash_month",
             ("tests/test_stock_flow.py::test_savings_are_stationary_without_policy",)),
    # ---------------------------------------------------------------- runner.py (horizon)
    Mutation("uplift with payback counts only the horizon", "model/summary.py",
             "uplift_with_payback = float(pol.books_with_payback.retail.sum())",
             "uplift_with_payback = float(pol.books.retail.sum()) + 0 * float(pol.books_with_payback.retail.sum())",
             ("tests/test_horizon.py",)),
    # ---------------------------------------------------------------- accounting.py
    Mutation("size-class split loses part of a sale", "model/accounting.py",
             "np.add.at(view, (cells, channel, 1), amounts * (1.0 - above_quota_share))",
             "np.add.at(view, (cells, channel, 1), amounts * (1.0 - above_quota_share) * 0.999)",
             ("tests/test_accounting.py::test_accounting_holds_for_random_scenarios",)),
    Mutation("voucher count identity not checked", "model/tools/voucher.py",
             "if issued != redeemed + expired + outstanding:", "if False:",
             ("tests/test_accounting.py::test_lost_voucher_is_caught",)),
    Mutation("savings identity not checked", "model/accounting.py",
             "if abs(change - ledger.expected_change()) >", "if False and abs(change - ledger.expected_change()) >",
             ("tests/test_stock_flow.py::test_savings_identity_is_checked",)),
    Mutation("voucher outlay identity not checked", "model/accounting.py",
             "if not amounts_agree(paid, expected, max(paid, expected)):", "if False:",
             ("tests/test_stock_flow.py::test_voucher_outlay_identity_is_checked",)),
    Mutation("voucher platform identity not checked", "model/accounting.py",
             "if not amounts_agree(platform, expected_platform, max(retail_total, switched)):", "if False:",
             ("tests/test_voucher_packs.py::test_platform_sales_are_total_sales_plus_channel_switching_less_other_channels",)),
    Mutation("sales paid wholly through the platform not recorded as such", "model/accounting.py",
             "            self.platform_only_sales[day] += total\n", "            pass\n",
             ("tests/test_voucher_packs.py::test_platform_sales_are_total_sales_plus_channel_switching_less_other_channels",
              "tests/test_accounting.py::test_accounting_holds_for_random_scenarios")),
    Mutation("supported sales bound not checked", "model/accounting.py",
             "for j in np.flatnonzero(over):", "for j in np.flatnonzero(over)[:0]:",
             ("tests/test_stock_flow.py::test_supported_sales_bound_is_checked",)),
    Mutation("scenario's supported sales count a car paid by a subsidy and a voucher twice", "model/tools/voucher.py",
             "once=first_time)", "once=None)",
             ("tests/test_gross_leverage.py::test_a_car_paid_for_by_two_tools_counts_once_in_the_scenario_total",)),
    Mutation("a pool's queue of claims forgets what it already paid", "model/government.py",
             "return np.cumsum(amounts) <= self.remaining_yuan * (1 + 1e-12) + 1e-9",
             "return np.cumsum(amounts) <= self.budget_yuan * (1 + 1e-12) + 1e-9",
             ("tests/test_accounting.py::test_no_fund_pays_past_its_pool",)),
    Mutation("a pool pays a claim in full past its budget", "model/government.py",
             "paid = min(float(amount_yuan), self.remaining_yuan)", "paid = float(amount_yuan)",
             ("tests/test_accounting.py::test_accounting_holds_for_random_scenarios",)),
    # ---------------------------------------------------------------- trend.py, the forecast baseline (issue 11)
    Mutation("the trend's forecast errors do not accumulate: each year drawn afresh around the trend",
             "model/trend.py", "walk[MAX_YEARS + 1:] = np.cumsum(steps[MAX_YEARS:])",
             "walk[MAX_YEARS + 1:] = steps[MAX_YEARS:]",
             ("tests/test_forecast_baseline.py::test_trend_draw_has_mean_one_and_its_spread_grows_with_distance_from_the_base_year",)),
    Mutation("households' flow spending ignores the drawn trend (follows income only)", "model/economy.py",
             "flow_multipliers = (self.seasonality[day] * self.demand_condition[day] * self.demand_index[day]",
             "flow_multipliers = (self.seasonality[day] * self.demand_condition[day] * self.income_index[day]",
             ("tests/test_forecast_baseline.py::test_no_policy_flows_follow_the_drawn_trend_and_the_interval_widens_with_the_horizon",)),
    Mutation("a growth target divided by the published prior-period figure where one is given", "model/summary.py",
             "return level / prior_level(target, model, prior) - 1.0",
             "return level / (target.base_value_yuan or prior_level(target, model, prior)) - 1.0",
             ("tests/test_forecast_baseline.py::test_a_base_statistic_ten_percent_off_does_not_move_the_verdict",)),
    Mutation("the prior-period run draws a trend path of its own", "model/simulation.py",
             "population=population, trend=trend).run(progress)", "population=population).run(progress)",
             ("tests/test_forecast_baseline.py::test_growth_is_the_period_over_the_simulated_prior_period_of_the_same_replication",)),
    Mutation("growth compared with the same period two years earlier", "model/scenario.py",
             "    return day.replace(year=day.year - 1)", "    return day.replace(year=day.year - 2)",
             ("tests/test_forecast_baseline.py::test_growth_is_the_period_over_the_simulated_prior_period_of_the_same_replication",)),
    Mutation("the plan's contribution counts the no-policy growth as its own", "model/summary.py",
             "        return 100.0 * (value_policy - value_baseline)", "        return 100.0 * value_policy",
             ("tests/test_forecast_baseline.py::test_probability_met_is_strictly_between_0_and_1_when_the_target_is_inside_the_baseline_interval",)),
    # ---------------------------------------------------------------- counterfactual_cache.py (issue 12)
    Mutation("a design's counterfactual reused whatever its payback end", "model/counterfactual_cache.py",
             'return ("baseline", fingerprint(scenario, scale, streams), payback_end_date(scenario))',
             'return ("baseline", fingerprint(scenario, scale, streams))',
             ("tests/test_counterfactual_cache.py::test_the_key_changes_with_each_dependency_and_not_with_a_budget",)),
    Mutation("the behaviour left out of the counterfactual's key", "model/counterfactual_cache.py",
             '    "behaviour_choice": ("", ',
             '    "behaviour": (None, "mutated"),\n    "behaviour_choice": ("", ',
             ("tests/test_counterfactual_cache.py::test_every_scenario_field_is_either_keyed_or_ignored_with_a_reason",
              "tests/test_counterfactual_cache.py::test_the_key_changes_with_each_dependency_and_not_with_a_budget")),
    Mutation("a kept counterfactual left writable", "model/counterfactual_cache.py",
             "array.setflags(write=False)", "array.setflags(write=array.flags.writeable)",
             ("tests/test_counterfactual_cache.py::test_kept_runs_are_read_only_and_a_hit_carries_the_asking_design",)),
    # ---------------------------------------------------------------- behavioural uncertainty (issue 13)
    Mutation("every replication runs ensemble set 0, so intervals miss behavioural uncertainty",
             "model/parameters/ensemble.py", "index = replication % len(ensemble.sets)", "index = 0",
             ("tests/test_behaviour_ensemble.py::test_replication_r_runs_set_r_cycling_and_the_point_and_documented_choices",)),
    Mutation("a published point counts as reached ten standard deviations away", "calibration/estimate_behaviour.py",
             "reached = abs(z) <= 2", "reached = abs(z) <= 20",
             ("tests/test_evidence.py::test_each_figure_is_judged_and_a_miss_shows_its_reason_in_the_table_and_the_closing_note",)),
)


def locate(mutation: Mutation, root: Path) -> int:
    """Line (1-based) where the pattern starts; raises ValueError unless it occurs exactly once."""
    if not (root / mutation.path).exists():
        raise ValueError(f"{mutation.path} does not exist")
    text = (root / mutation.path).read_text(encoding="utf-8")
    count = text.count(mutation.pattern)
    if count != 1:
        raise ValueError(f"pattern occurs {count} times in {mutation.path}")
    return text[: text.index(mutation.pattern)].count("\n") + 1


def copy_project(target: Path) -> None:
    """Copy the project's source (no git, results or caches) to ``target``."""
    ignore = shutil.ignore_patterns(".git", "results", "__pycache__", ".hypothesis", ".pytest_cache", "*.pyc")
    for entry in ROOT.iterdir():
        if entry.name in (".git", "results", ".hypothesis", ".pytest_cache"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, ignore=ignore)
        else:
            shutil.copy2(entry, target / entry.name)


def run_tests(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, str]:
    """Run ``tests`` in the copy; (verdict, caught by)."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rfE", *tests]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    try:
        done = subprocess.run(cmd, cwd=copy, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return "error", f"timed out after {timeout:.0f} s"
    if done.returncode == 0:
        return "survived", "—"
    if done.returncode == 1:
        failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, flags=re.MULTILINE)
        return "killed", failed[0] if failed else "(a test failed)"
    return "error", f"pytest exit {done.returncode}: {done.stdout.strip().splitlines()[-1:]}"


def main() -> int:
    parser = argparse.ArgumentParser(description="Apply each mechanism mutation and run the tests that should catch it.")
    parser.add_argument("--list", action="store_true", help="print the mutations and exit")
    parser.add_argument("-k", default="", help="only mutations whose name contains this text")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per mutation (default 900)")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if args.k.lower() in m.name.lower()]
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mutations-") as tmp:
        copy = Path(tmp)
        copy_project(copy)
        for i, m in enumerate(chosen, 1):
            try:
                line = locate(m, copy)
            except ValueError as err:
                rows.append((m.name, f"{m.path}:?", str(err), "missing"))
                continue
            where = f"{m.path}:{line}"
            if args.list:
                rows.append((m.name, where, ", ".join(m.tests), ""))
                continue
            original = (copy / m.path).read_text(encoding="utf-8")
            (copy / m.path).write_text(original.replace(m.pattern, m.replacement, 1), encoding="utf-8")
            t0 = time.perf_counter()
            try:
                verdict, caught = run_tests(copy, m.tests, args.timeout)
            finally:
                (copy / m.path).write_text(original, encoding="utf-8")
            print(f"[{i}/{len(chosen)}] {verdict:8s} {time.perf_counter() - t0:5.0f} s  {m.name}", file=sys.stderr, flush=True)
            rows.append((m.name, where, caught, verdict))
    print("| mutation | file:line | caught by | result |")
    print("|---|---|---|---|")
    for name, where, caught, verdict in rows:
        print(f"| {name} | `{where}` | {caught.replace('|', '/')} | {verdict} |")
    if not args.list:
        killed = sum(1 for r in rows if r[3] == "killed")
        print(f"\n{killed} of {len(rows)} mutations killed in {time.perf_counter() - started:.0f} s")
    return 0 if args.list or all(r[3] == "killed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
