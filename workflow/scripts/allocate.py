"""w_k from the method's policy (rule allocate)."""

from read.io import write_json
from read.runtime import job
from read.steps.interval import allocate

with job(snakemake):
    p, i = snakemake.params, snakemake.input
    allocation = allocate(p.method, p.k, r_tau_file=i.r_tau, profile=i.profile, ledger=i.ledger,
                          prev_allocation=i.get("prev_allocation"), bandit=i.get("bandit"), reward=p.reward,
                          bandit_cfg=p.bandit, seed=p.seed)
    write_json(snakemake.output[0], allocation)
