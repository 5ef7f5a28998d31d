"""Capability profile s(S) on the probe suite: S0, the teacher, or an interval's student
(rules probe_s0, probe_teacher, probe); at dev checkpoints also the task's dev utility."""

from read.io import write_json
from read.runtime import job
from read.steps.common import ModelSettings
from read.steps.setup import DevCheck, probe

with job(snakemake, model=True):  # a warm forked process on local runs; torch on this job's cores
    i, p = snakemake.input, snakemake.params
    profile = probe(i.base, i.get("model"), i.suite, i.tokenizer, batch_size=p.batch_size,
                    settings=ModelSettings.of(p.settings), dev=DevCheck.from_params(p.dev))
    write_json(snakemake.output[0], profile)
