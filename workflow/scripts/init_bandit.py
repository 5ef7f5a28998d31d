"""The method's bandit pre-fit on the profiling interventions, before interval 1 (rule init_bandit)."""

from read.io import write_json
from read.runtime import job
from read.steps.interval import init_bandit

with job(snakemake):
    p, i = snakemake.params, snakemake.input
    state = init_bandit(p.method, i.interventions, i.r_tau, budget=p.budget, bandit=p.bandit, reward=p.reward,
                        seed=p.seed)
    write_json(snakemake.output[0], state)
