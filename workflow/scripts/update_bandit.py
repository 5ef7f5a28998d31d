"""Bandit state_k: interval k's reward observed and the ensemble refit (rule update_bandit)."""

from read.io import write_json
from read.runtime import job
from read.steps.interval import update_bandit

with job(snakemake):
    p, i = snakemake.params, snakemake.input
    state = update_bandit(p.method, p.k, bandit=i.bandit, allocation=i.allocation, prev_profile=i.prev_profile,
                          profile=i.profile, r_tau_file=i.r_tau, ledger=i.ledger, initial=i.initial, reward=p.reward,
                          bandit_cfg=p.bandit, seed=p.seed)
    write_json(snakemake.output[0], state)
