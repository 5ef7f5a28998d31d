"""Proxy reward vs dev-task gain over a task's profiling interventions (rule reward_validity)."""

import logging

from read.interval import reward_validity
from read.io import write_json

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
p = snakemake.params
write_json(snakemake.output[0], reward_validity(snakemake.input.interventions, snakemake.input.r_tau,
                                                reward=p.reward, interval_tokens=p.interval_tokens))
