"""Bandit state_k: interval k's reward observed and the ensemble refit (rule update_bandit)."""

import logging

from read.interval import update_bandit
from read.io import write_json

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
p, i = snakemake.params, snakemake.input
state = update_bandit(p.method, p.k, bandit=i.bandit, allocation=i.allocation, prev_profile=i.prev_profile,
                      profile=i.profile, r_tau=i.r_tau, ledger=i.ledger, initial=i.initial, reward=p.reward,
                      bandit_cfg=p.bandit, seed=p.seed)
write_json(snakemake.output[0], state)
