"""The token budget B: its split into intervals, and a ledger that never overspends.

B counts exactly two kinds of tokens (paper §1, Problem 1: Σ_t cost_t ≤ B; code §6.1):

* ``gen``   -- tokens the TEACHER generates (response tokens only), and
* ``train`` -- tokens the STUDENT is trained on (prompt + response, student tokenizer).

``gen_fraction`` of B goes to generation and the rest to training; each is cut into
``n_intervals`` equal shares with the integer remainder on the last interval, so the
shares sum to the caps exactly. Teacher PROMPT tokens are recorded (they cost compute)
but not charged to B. Tokens spent on profiling interventions are recorded under
``"profiling"`` and are not charged to B either (paper §1: identifier/profiling cost is
reported outside B).

Design choices where the paper is silent:

* Carry-over (``BudgetConfig.carry_over``, default on): tokens an interval leaves unspent
  (a dropped overflowing example, a generation stopped short of the cap) move to the next
  interval, so a run spends B as fully as the item granularity allows while the running
  total never passes the running plan. Spending is chronological: once interval k has
  spent, intervals < k are closed.
* The interval cost fed to the reward is measured in units of the interval's planned
  share, ``cost_k = (gen_k + train_k) / (gen_cap_k + train_cap_k)`` (≈ 1), never in raw
  tokens (see :mod:`read.reward`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from read.errors import ReadError, bad_input

VERSION = 1
CHARGED = ("gen", "train")  # kinds that count against B
KINDS = ("prompt", "gen", "train")  # everything the ledger records


class BudgetExceeded(ReadError):
    """A spend would pass a cap. The ledger is unchanged when this is raised."""


@dataclass(frozen=True)
class BudgetConfig:
    """`budget:` section.

    Attributes:
        total_tokens: B, teacher-generated + student-trained tokens for the whole run (> 0).
        gen_fraction: share of B for teacher generation, in (0, 1); the code's 0.4 default.
        n_intervals: number of decision intervals N (paper: 20), >= 1.
        carry_over: unspent tokens of interval k are added to interval k+1's cap.
    """

    total_tokens: int
    gen_fraction: float = 0.4
    n_intervals: int = 20
    carry_over: bool = True

    @classmethod
    def intervals(cls, section) -> int:
        """N for a `budget:` section (which has no B: each run's B comes from its path)."""
        return int(section.get("n_intervals", cls.__dataclass_fields__["n_intervals"].default))

    def __post_init__(self) -> None:
        if isinstance(self.total_tokens, bool) or not isinstance(self.total_tokens, int) or self.total_tokens <= 0:
            raise bad_input(
                "budget.total_tokens", f"must be an integer > 0, got {self.total_tokens!r}", "set B in tokens"
            )
        if not isinstance(self.gen_fraction, (int, float)) or not 0.0 < self.gen_fraction < 1.0:
            raise bad_input("budget.gen_fraction", f"must be in (0, 1), got {self.gen_fraction!r}", "e.g. 0.4")
        if isinstance(self.n_intervals, bool) or not isinstance(self.n_intervals, int) or self.n_intervals < 1:
            raise bad_input("budget.n_intervals", f"must be an integer >= 1, got {self.n_intervals!r}", "e.g. 20")
        if not isinstance(self.carry_over, bool):
            raise bad_input("budget.carry_over", f"must be true or false, got {self.carry_over!r}", "use a boolean")
        if min(self.gen_tokens, self.train_tokens) < self.n_intervals:
            raise bad_input(
                "budget.total_tokens",
                f"B={self.total_tokens} leaves fewer than one gen and one train token per interval "
                f"({self.gen_tokens} gen, {self.train_tokens} train, {self.n_intervals} intervals)",
                "raise total_tokens or lower n_intervals",
            )

    @property
    def gen_tokens(self) -> int:
        """Generation cap: round(B · gen_fraction); train gets the exact rest."""
        return int(round(self.total_tokens * self.gen_fraction))

    @property
    def train_tokens(self) -> int:
        return self.total_tokens - self.gen_tokens


def _shares(total: int, n: int) -> tuple[int, ...]:
    """``n`` equal integer shares of ``total``; the remainder goes to the last one."""
    base, rest = divmod(total, n)
    return (base,) * (n - 1) + (base + rest,)


@dataclass(frozen=True)
class IntervalPlan:
    """Per-interval token caps, intervals numbered ``k = 1..N`` (as in ``i{k}/``).

    ``sum(gen_caps) == config.gen_tokens`` and ``sum(train_caps) == config.train_tokens``
    hold exactly.
    """

    gen_caps: tuple[int, ...]
    train_caps: tuple[int, ...]

    @classmethod
    def from_config(cls, cfg: BudgetConfig) -> IntervalPlan:
        return cls(_shares(cfg.gen_tokens, cfg.n_intervals), _shares(cfg.train_tokens, cfg.n_intervals))

    @property
    def n_intervals(self) -> int:
        return len(self.gen_caps)

    def check_k(self, k: int) -> int:
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.n_intervals:
            raise bad_input(
                "interval k", f"must be an integer in 1..{self.n_intervals}, got {k!r}", "intervals count from 1"
            )
        return k

    def cap(self, k: int, kind: str) -> int:
        """Planned cap of ``kind`` ("gen" or "train") for interval ``k``."""
        self.check_k(k)
        return self.caps(kind)[k - 1]

    def interval_tokens(self, k: int) -> int:
        """Planned charged tokens of interval k (gen + train): the unit of the reward's cost."""
        return self.cap(k, "gen") + self.cap(k, "train")

    def caps(self, kind: str) -> tuple[int, ...]:
        """All N planned caps of ``kind`` ("gen" or "train")."""
        if kind == "gen":
            return self.gen_caps
        if kind == "train":
            return self.train_caps
        raise bad_input("budget kind", f"unknown charged kind {kind!r}", f"use one of {list(CHARGED)}")


class Selection(NamedTuple):
    """Result of :func:`select_within`: the items kept, their total cost, and how many were dropped."""

    items: list
    tokens: int
    dropped: int


def select_within(items_with_costs: Iterable[tuple[Any, int]], cap: int) -> Selection:
    """Keep items in order while they fit under ``cap``; an item that would overflow is dropped.

    Scanning continues after a drop, so a later, cheaper item can still fit. Dropped items
    are NOT used (never truncated); ``dropped`` says how many there were.

    Args:
        items_with_costs: ``(item, cost_tokens)`` pairs; costs are integers >= 0.
        cap: the most tokens the kept items may cost together (>= 0).
    """
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
        raise bad_input("select_within", f"cap must be an integer >= 0, got {cap!r}", "pass a token count")
    kept, used, dropped = [], 0, 0
    for i, (item, cost) in enumerate(items_with_costs):
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
            raise bad_input(f"select_within item {i}", f"cost must be an integer >= 0, got {cost!r}", "count tokens")
        if used + cost <= cap:
            kept.append(item)
            used += cost
        else:
            dropped += 1
    return Selection(kept, used, dropped)


def _zero() -> dict[str, int]:
    return {kind: 0 for kind in KINDS}


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad_input(where, f"token count must be an integer >= 0, got {value!r}", "pass a non-negative int")
    return value


class Ledger:
    """Every token of a run, per interval; charged spend never passes a cap.

    Effective cap of ``kind`` at interval k (with carry-over):
        cap_k = Σ_{j≤k} plan_j − Σ_{j<k} spent_j    (so Σ_{j≤k} spent_j ≤ Σ_{j≤k} plan_j)
    without carry-over simply ``plan_k``. Either way Σ_k spent_k ≤ cap of the kind ≤ B.
    """

    def __init__(self, config: BudgetConfig) -> None:
        self.config = config
        self.plan = IntervalPlan.from_config(config)
        self.intervals: list[dict[str, int]] = [_zero() for _ in range(config.n_intervals)]
        self.profiling: dict[str, int] = _zero()

    # ---- queries ---------------------------------------------------------------
    def spent(self, k: int, kind: str) -> int:
        self.plan.check_k(k)
        if kind not in KINDS:
            raise bad_input("ledger kind", f"unknown kind {kind!r}", f"use one of {list(KINDS)}")
        return self.intervals[k - 1][kind]

    def cap(self, k: int, kind: str) -> int:
        """Effective cap of a charged kind for interval k (includes carry-over when enabled)."""
        planned = self.plan.cap(k, kind)
        if not self.config.carry_over:
            return planned
        caps = self.plan.caps(kind)
        return sum(caps[:k]) - sum(row[kind] for row in self.intervals[: k - 1])

    def remaining(self, k: int, kind: str) -> int:
        """Tokens of ``kind`` interval k may still spend (0 once a later interval has spent)."""
        if self._later_spent(k):
            return 0
        return self.cap(k, kind) - self.spent(k, kind)

    def can_afford(self, k: int, *, gen_tokens: int = 0, train_tokens: int = 0) -> bool:
        """True if spending these tokens at interval k keeps every cap."""
        gen = _count(gen_tokens, "can_afford.gen_tokens")
        train = _count(train_tokens, "can_afford.train_tokens")
        return gen <= self.remaining(k, "gen") and train <= self.remaining(k, "train")

    def total(self, kind: str) -> int:
        """Run total of one kind over all intervals (profiling excluded)."""
        if kind not in KINDS:
            raise bad_input("ledger kind", f"unknown kind {kind!r}", f"use one of {list(KINDS)}")
        return sum(row[kind] for row in self.intervals)

    @property
    def charged(self) -> int:
        """Tokens charged to B so far: Σ_k gen_k + train_k."""
        return self.total("gen") + self.total("train")

    def remaining_fraction(self) -> float:
        """b_t / B in [0, 1]: the budget fraction not yet charged (the bandit's context feature)."""
        return 1.0 - self.charged / self.config.total_tokens

    def interval_cost(self, k: int) -> float:
        """cost_k = (gen_k + train_k) / planned (gen_cap_k + train_cap_k); ≈ 1 for a full interval."""
        row = self.intervals[self.plan.check_k(k) - 1]
        return (row["gen"] + row["train"]) / self.plan.interval_tokens(k)

    def _later_spent(self, k: int) -> bool:
        return any(any(row[kind] for kind in KINDS) for row in self.intervals[self.plan.check_k(k) :])

    # ---- updates ---------------------------------------------------------------
    def spend(self, k: int, *, gen_tokens: int = 0, train_tokens: int = 0, prompt_tokens: int = 0) -> None:
        """Record tokens for interval k; raise :class:`BudgetExceeded` (changing nothing) on overflow.

        ``prompt_tokens`` (teacher prompt tokens) are recorded but never charged.
        """
        amounts = {
            "gen": _count(gen_tokens, "spend.gen_tokens"),
            "train": _count(train_tokens, "spend.train_tokens"),
            "prompt": _count(prompt_tokens, "spend.prompt_tokens"),
        }
        if self._later_spent(k):
            raise BudgetExceeded(
                f"ledger interval {k}: a later interval has already spent; spend intervals in order (1, 2, ...)"
            )
        for kind in CHARGED:
            left = self.remaining(k, kind)
            if amounts[kind] > left:
                raise BudgetExceeded(
                    f"ledger interval {k}: {kind} {self.spent(k, kind)} + {amounts[kind]} > cap {self.cap(k, kind)}; "
                    "select fewer items (read.budget.select_within) or check remaining() first"
                )
        for kind, n in amounts.items():
            self.intervals[k - 1][kind] += n

    def record_profiling(self, *, gen_tokens: int = 0, train_tokens: int = 0, prompt_tokens: int = 0) -> None:
        """Record profiling-intervention tokens: reported, never charged to B."""
        self.profiling["gen"] += _count(gen_tokens, "record_profiling.gen_tokens")
        self.profiling["train"] += _count(train_tokens, "record_profiling.train_tokens")
        self.profiling["prompt"] += _count(prompt_tokens, "record_profiling.prompt_tokens")

    # ---- persistence -------------------------------------------------------------
    def to_json(self) -> dict:
        """Versioned, self-describing JSON (plan and totals included for readers)."""
        rows = [{"k": k, **{f"{kind}_tokens": row[kind] for kind in KINDS}} for k, row in enumerate(self.intervals, 1)]
        return {
            "version": VERSION,
            "config": asdict(self.config),
            "plan": {"gen_tokens": list(self.plan.gen_caps), "train_tokens": list(self.plan.train_caps)},
            "intervals": rows,
            "profiling": {f"{kind}_tokens": self.profiling[kind] for kind in KINDS},
            "totals": {
                **{f"{kind}_tokens": self.total(kind) for kind in KINDS},
                "charged_tokens": self.charged,
                "budget_tokens": self.config.total_tokens,
            },
        }

    @classmethod
    def from_json(cls, obj: Any, where: str = "ledger.json") -> Ledger:
        """Rebuild a ledger, replaying every interval through :meth:`spend` so caps are re-checked."""
        if not isinstance(obj, dict) or obj.get("version") != VERSION:
            got = obj.get("version") if isinstance(obj, dict) else type(obj).__name__
            raise bad_input(where, f"unsupported ledger version {got!r}", f"expected version {VERSION}; rerun the rule")
        try:
            ledger = cls(BudgetConfig(**obj["config"]))
            rows = obj["intervals"]
            if len(rows) != ledger.plan.n_intervals:
                raise bad_input(
                    where, f"{len(rows)} interval rows for {ledger.plan.n_intervals} intervals", "rerun the rule"
                )
            for k, row in enumerate(rows, 1):
                if row.get("k") != k:
                    raise bad_input(
                        f"{where}: intervals[{k - 1}]", f"k={row.get('k')!r}, expected {k}", "rerun the rule"
                    )
                ledger.spend(k, **{f"{kind}_tokens": row[f"{kind}_tokens"] for kind in KINDS})
            ledger.record_profiling(**{f"{kind}_tokens": obj["profiling"][f"{kind}_tokens"] for kind in KINDS})
        except KeyError as err:
            raise bad_input(where, f"missing key {err}", "rerun the rule that writes the ledger") from None
        except BudgetExceeded as err:
            raise bad_input(
                where, f"recorded spend passes the cap ({err})", "the file is corrupt; rerun the run"
            ) from None
        except TypeError as err:
            raise bad_input(where, f"malformed ledger ({err})", "rerun the rule that writes the ledger") from None
        return ledger

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ledger):
            return NotImplemented
        return (self.config, self.intervals, self.profiling) == (other.config, other.intervals, other.profiling)

    def __repr__(self) -> str:
        return f"Ledger(charged={self.charged}/{self.config.total_tokens}, intervals={self.plan.n_intervals})"
