"""Capability profile s(S) on the probe suite: S0, the teacher, or an interval's student
(rules probe_s0, probe_teacher, probe); at dev checkpoints also the task's dev utility."""

import logging

from read.io import write_json
from read.jobs import model_job
from read.steps.setup import DevCheck, probe

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    i, p = snakemake.input, snakemake.params
    profile = probe(i.base, i.get("model"), i.suite, i.tokenizer, batch_size=p.batch_size,
                    chat_template=p.chat_template, dev=DevCheck.from_params(p.dev))
    write_json(snakemake.output[0], profile)
