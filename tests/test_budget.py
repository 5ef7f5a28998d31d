import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from read.budget import BudgetConfig, BudgetExceeded, IntervalPlan, Ledger, select_within
from read.errors import ReadError

# ---- config and plan -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"total_tokens": 0},
        {"total_tokens": -5},
        {"total_tokens": 10.5},
        {"total_tokens": True},
        {"total_tokens": 1000, "gen_fraction": 0.0},
        {"total_tokens": 1000, "gen_fraction": 1.0},
        {"total_tokens": 1000, "n_intervals": 0},
        {"total_tokens": 1000, "carry_over": "yes"},
        {"total_tokens": 30, "gen_fraction": 0.1, "n_intervals": 20},  # 3 gen tokens for 20 intervals
    ],
)
def test_bad_budget_config_is_a_one_line_read_error(kw):
    with pytest.raises(ReadError, match="budget"):
        BudgetConfig(**kw)


def test_gen_and_train_caps_sum_to_the_budget_exactly():
    cfg = BudgetConfig(total_tokens=1001, gen_fraction=0.4, n_intervals=3)
    assert (cfg.gen_tokens, cfg.train_tokens) == (400, 601)


def test_plan_gives_equal_shares_and_the_remainder_to_the_last_interval():
    plan = IntervalPlan.from_config(BudgetConfig(total_tokens=1001, gen_fraction=0.4, n_intervals=3))
    assert plan.gen_caps == (133, 133, 134)
    assert plan.train_caps == (200, 200, 201)
    assert plan.interval_tokens(3) == 335
    with pytest.raises(ReadError, match="1..3"):
        plan.cap(0, "gen")


@given(total=st.integers(100, 10**9), frac=st.floats(0.05, 0.95), n=st.integers(1, 40))
def test_plan_sums_equal_the_caps(total, frac, n):
    try:
        cfg = BudgetConfig(total_tokens=total, gen_fraction=frac, n_intervals=n)
    except ReadError:
        return  # too small a budget for n intervals: rejected up front
    plan = IntervalPlan.from_config(cfg)
    assert sum(plan.gen_caps) == cfg.gen_tokens and sum(plan.train_caps) == cfg.train_tokens
    assert sum(plan.gen_caps) + sum(plan.train_caps) == total
    assert len(set(plan.gen_caps[:-1])) <= 1 and plan.gen_caps[-1] >= plan.gen_caps[0]


# ---- select_within ---------------------------------------------------------------------


def test_select_within_keeps_order_drops_overflowing_items_and_keeps_scanning():
    sel = select_within([("a", 4), ("b", 5), ("c", 3), ("d", 2)], cap=9)
    assert sel.items == ["a", "b"] and sel.tokens == 9 and sel.dropped == 2
    sel = select_within([("a", 4), ("big", 10), ("c", 3)], cap=8)
    assert sel.items == ["a", "c"] and sel.tokens == 7 and sel.dropped == 1  # a later item still fits


def test_select_within_rejects_bad_costs():
    with pytest.raises(ReadError, match="item 1"):
        select_within([("a", 1), ("b", -1)], cap=5)
    with pytest.raises(ReadError):
        select_within([], cap=-1)


# ---- ledger ----------------------------------------------------------------------------


def small_ledger(carry_over=True):
    return Ledger(BudgetConfig(total_tokens=1000, gen_fraction=0.4, n_intervals=4, carry_over=carry_over))


def test_spend_over_the_cap_raises_and_changes_nothing():
    led = small_ledger()
    led.spend(1, gen_tokens=60, train_tokens=100, prompt_tokens=999)
    before = led.to_json()
    assert not led.can_afford(1, gen_tokens=41)
    with pytest.raises(BudgetExceeded, match="gen 60 \\+ 41 > cap 100"):
        led.spend(1, gen_tokens=41, train_tokens=1)
    assert led.to_json() == before
    assert led.can_afford(1, gen_tokens=40, train_tokens=50)


def test_prompt_and_profiling_tokens_are_recorded_but_not_charged():
    led = small_ledger()
    led.spend(1, gen_tokens=10, train_tokens=20, prompt_tokens=5000)
    led.record_profiling(gen_tokens=10**6, train_tokens=10**6, prompt_tokens=3)
    assert led.charged == 30
    assert led.remaining_fraction() == pytest.approx(0.97)
    out = led.to_json()
    assert out["totals"]["prompt_tokens"] == 5000 and out["profiling"]["gen_tokens"] == 10**6


def test_carry_over_moves_unspent_tokens_to_the_next_interval():
    led = small_ledger(carry_over=True)
    led.spend(1, gen_tokens=70, train_tokens=150)  # caps 100 / 150
    assert led.cap(2, "gen") == 130 and led.remaining(2, "train") == 150
    strict = small_ledger(carry_over=False)
    strict.spend(1, gen_tokens=70)
    assert strict.cap(2, "gen") == 100


def test_intervals_are_spent_in_order():
    led = small_ledger()
    led.spend(2, gen_tokens=1)
    assert led.remaining(1, "gen") == 0
    with pytest.raises(BudgetExceeded, match="in order"):
        led.spend(1, gen_tokens=1)


def test_interval_cost_is_in_units_of_the_planned_share():
    led = small_ledger()
    led.spend(1, gen_tokens=100, train_tokens=150)
    led.spend(2, gen_tokens=50, train_tokens=75)
    assert led.interval_cost(1) == 1.0 and led.interval_cost(2) == 0.5 and led.interval_cost(3) == 0.0


def test_ledger_json_is_versioned_and_checked_on_load():
    led = small_ledger()
    led.spend(1, gen_tokens=100, train_tokens=10, prompt_tokens=7)
    obj = json.loads(json.dumps(led.to_json()))
    assert Ledger.from_json(obj) == led
    with pytest.raises(ReadError, match="version"):
        Ledger.from_json({**obj, "version": 99})
    obj["intervals"][0]["gen_tokens"] = 101  # more than the cap: corrupt file
    with pytest.raises(ReadError, match="passes the cap"):
        Ledger.from_json(obj)


# ---- properties --------------------------------------------------------------------------

spends = st.lists(
    st.tuples(st.integers(1, 5), st.integers(0, 400), st.integers(0, 400), st.integers(0, 50)), max_size=30
)


@settings(max_examples=150, deadline=None)
@given(spends=spends, carry=st.booleans(), total=st.integers(200, 5000))
def test_ledger_never_overspends_totals_add_up_and_json_round_trips(spends, carry, total):
    led = Ledger(BudgetConfig(total_tokens=total, gen_fraction=0.3, n_intervals=5, carry_over=carry))
    accepted = {"gen": 0, "train": 0}
    for k, gen, train, prompt in sorted(spends, key=lambda s: s[0]):  # chronological
        ok = led.can_afford(k, gen_tokens=gen, train_tokens=train)
        try:
            led.spend(k, gen_tokens=gen, train_tokens=train, prompt_tokens=prompt)
        except BudgetExceeded:
            assert not ok
        else:
            assert ok
            accepted["gen"] += gen
            accepted["train"] += train
        for kind, cap in (("gen", led.config.gen_tokens), ("train", led.config.train_tokens)):
            running = 0
            for j in range(1, 6):  # the running total never passes the running plan
                running += led.spent(j, kind)
                assert running <= sum(led.plan.caps(kind)[:j])
                if not carry:
                    assert led.spent(j, kind) <= led.plan.cap(j, kind)
            assert led.total(kind) == accepted[kind] <= cap
    assert led.charged == sum(accepted.values()) <= total
    assert sum(row["gen_tokens"] + row["train_tokens"] for row in led.to_json()["intervals"]) == led.charged
    again = Ledger.from_json(json.loads(json.dumps(led.to_json())))
    assert again == led and again.to_json() == led.to_json()


@given(costs=st.lists(st.integers(0, 100), max_size=40), cap=st.integers(0, 500))
def test_select_within_never_passes_the_cap_and_accounts_for_every_item(costs, cap):
    sel = select_within(list(enumerate(costs)), cap)
    assert sel.tokens == sum(costs[i] for i in sel.items) <= cap
    assert len(sel.items) + sel.dropped == len(costs)
    assert sel.items == sorted(sel.items)  # order kept
