"""The method's bandit pre-fit on the profiling interventions, before interval 1 (rule init_bandit)."""

import logging

from read.io import write_json
from read.jobs import user_errors
from read.steps.interval import init_bandit

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with user_errors():
    p, i = snakemake.params, snakemake.input
    state = init_bandit(p.method, i.interventions, i.r_tau, budget=p.budget, bandit=p.bandit, reward=p.reward,
                        seed=p.seed)
    write_json(snakemake.output[0], state)
