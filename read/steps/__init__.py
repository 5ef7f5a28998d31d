"""The workflow's steps: one function per rule, the glue between files and the library.

Each workflow script builds the typed config sections from its ``params``, calls one of
these functions and writes what it returns; :mod:`read.run` calls the same functions
from plain Python. Modules mirror the rule files:

* :mod:`read.steps.setup` (``setup.smk``): difficulty scale, probe suite, eval-leakage
  index, probe profiles, S0's task score, profiling interventions, reward validity;
* :mod:`read.steps.interval` (``interval.smk``): per run the ledger and the pre-fit
  bandit, per interval the allocation, the teacher batch, training, the bandit update;
* :mod:`read.steps.evaluate` (``evaluate.smk``): a run's final evaluation.

No step knows which provider (the embedded world or the user's models and data) made its
inputs: models are paths and configs, pools and probes come from
:mod:`read.capability_data`, tasks from :mod:`read.tasks`.

Files:

* ``interventions.jsonl`` rows: ``{"i", "w": {cap}, "context", "s0": {cap}, "s1": {cap},
  "delta_s": {cap}, "delta_u", "tokens": gen + train, "token_counts": {"gen", "train", "prompt"}}``;
* ``bandit.json``: ``BanditState.to_json()`` plus ``"last": {"reward", "cum_reward",
  "terms", "k", "checkpoint"}`` (the reward of the interval just observed);
* ``i{k}/ledger.json``: ``Ledger.to_json()`` after interval k, plus ``"train_report"``;
* ``i{k}/manifest.json``: the batch's token counts, rows per capability and the prompts
  the eval-leakage filter dropped, by reason.
"""
