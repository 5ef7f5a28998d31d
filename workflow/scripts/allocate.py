"""w_k from the method's policy (rule allocate)."""

import logging

from read.interval import allocate
from read.io import write_json

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
p, i = snakemake.params, snakemake.input
allocation = allocate(p.method, p.k, r_tau=i.r_tau, profile=i.profile, ledger=i.ledger,
                      prev_allocation=i.get("prev_allocation"), bandit=i.get("bandit"), reward=p.reward,
                      bandit_cfg=p.bandit, seed=p.seed)
write_json(snakemake.output[0], allocation)
