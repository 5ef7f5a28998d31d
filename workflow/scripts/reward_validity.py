"""Proxy reward vs dev-task gain over a task's profiling interventions (rule reward_validity)."""

import logging

from read.io import write_json
from read.jobs import user_errors
from read.steps.setup import reward_validity

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with user_errors():
    p = snakemake.params
    write_json(snakemake.output[0], reward_validity(snakemake.input.interventions, snakemake.input.r_tau,
                                                    reward=p.reward, interval_tokens=p.interval_tokens))
