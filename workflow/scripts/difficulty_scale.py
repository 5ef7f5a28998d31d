"""Fit every pool's difficulty scale once for the experiment (rule difficulty_scale)."""

import logging

from read.capability_data import from_params
from read.config import ProbesConfig
from read.jobs import user_errors
from read.steps.setup import difficulty_scale

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with user_errors():
    p = snakemake.params
    difficulty_scale(snakemake.output[0], sources=from_params(p.capabilities), probes=ProbesConfig.from_dict(p.probes))
