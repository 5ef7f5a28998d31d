"""Teacher greedy responses on the probe prompts of every capability (rule probe_suite)."""

import logging

from read.capability_data import from_params
from read.config import ProbesConfig
from read.io import write_json
from read.jobs import model_job
from read.steps.setup import probe_suite
from read.teachers import TeacherConfig

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    p = snakemake.params
    suite = probe_suite(teacher=TeacherConfig.from_dict(p.teacher), sources=from_params(p.capabilities),
                        probes=ProbesConfig.from_dict(p.probes))
    write_json(snakemake.output[0], suite)
