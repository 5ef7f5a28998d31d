"""Aggregation: tidy results tables, significance tests, and the paper's tables and figures.

Layers (each importable on its own; pandas, scipy, matplotlib and seaborn are imported
inside functions, so ``import read.aggregate`` stays cheap):

- :mod:`.collect`: run files -> tidy frames (``collect_runs``, ``collect_task_items``,
  ``collect_allocations``, ``collect_profiles``, ``collect_reference`` for the teacher's
  or S0's test-split eval files); method names (``split_signal``, ``onehot_target``).
- :mod:`.stats`: pure estimators (``welch_t``, ``welch_t_from_stats``, ``paired_t``, ``holm``,
  ``stars``, ``tokens_to_match``, ``wilson_interval``).
- :mod:`.tables`, :mod:`.diagnostics`: tidy frame -> tidy summary table.
- :mod:`.plots`: ``plot_x(df, ax=None) -> Axes``; :mod:`.figures`: multi-panel layouts.
- :mod:`.render`: CSV / Markdown / LaTeX text, written atomically.
- :mod:`.report`: the workflow's entry points, ``write_<artefact>(...)``, ``write_artefact``
  (outputs named csv/md/tex/png/pdf, as a rule's named outputs), ``write_all``, and the
  registries ``ARTEFACTS`` (table/figure per artefact) and ``ARTEFACT_OPTIONS`` (the extra
  file inputs each writer takes).
"""

from read.aggregate.collect import (
    collect_allocations,
    collect_profiles,
    collect_reference,
    collect_runs,
    collect_task_items,
)
from read.aggregate.report import (
    ARTEFACT_OPTIONS,
    ARTEFACTS,
    WRITERS,
    artefact_paths,
    budget_vs_score_report,
    write_ablations,
    write_all,
    write_allocation_schedule,
    write_artefact,
    write_budget_curves,
    write_budget_vs_score,
    write_capability_profile,
    write_diminishing_returns,
    write_equivalent_budget,
    write_gap_closed,
    write_rising_spillover,
    write_scaling,
    write_schedule_utility,
    write_significance,
    write_spillover,
    write_transfer_matrix,
)

__all__ = ["ARTEFACTS", "ARTEFACT_OPTIONS", "WRITERS", "artefact_paths", "budget_vs_score_report",
           "collect_allocations", "collect_profiles", "collect_reference", "collect_runs", "collect_task_items",
           "write_ablations", "write_all", "write_allocation_schedule", "write_artefact", "write_budget_curves",
           "write_budget_vs_score", "write_capability_profile", "write_diminishing_returns",
           "write_equivalent_budget", "write_gap_closed", "write_rising_spillover", "write_scaling",
           "write_schedule_utility", "write_significance", "write_spillover", "write_transfer_matrix"]
