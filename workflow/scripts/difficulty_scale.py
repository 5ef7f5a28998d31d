"""Fit every pool's difficulty scale once for the experiment (rule difficulty_scale)."""

from read.capability_data import from_params
from read.config import ProbesConfig
from read.runtime import job
from read.steps.setup import difficulty_scale

with job(snakemake):
    p = snakemake.params
    difficulty_scale(snakemake.output[0], sources=from_params(p.capabilities), probes=ProbesConfig.from_dict(p.probes))
