"""Teacher greedy responses on the probe prompts of every capability (rule probe_suite)."""

from read.capability_data import from_params
from read.config import ProbesConfig
from read.io import write_json
from read.runtime import job
from read.steps.setup import probe_suite
from read.teachers import TeacherConfig

with job(snakemake, model=True):  # a warm forked process on local runs; torch on this job's cores
    p = snakemake.params
    suite = probe_suite(teacher=TeacherConfig.from_dict(p.teacher), sources=from_params(p.capabilities),
                        probes=ProbesConfig.from_dict(p.probes))
    write_json(snakemake.output[0], suite)
