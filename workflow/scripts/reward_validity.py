"""Proxy reward vs dev-task gain over a task's profiling interventions (rule reward_validity)."""

from read.io import write_json
from read.runtime import job
from read.steps.setup import reward_validity

with job(snakemake):
    p = snakemake.params
    write_json(snakemake.output[0], reward_validity(snakemake.input.interventions, snakemake.input.r_tau,
                                                    reward=p.reward, interval_tokens=p.interval_tokens,
                                                    bandit=p.bandit))
