"""One shard of the profiling interventions of a task and seed (rule profile_interventions)."""

import logging

from read.interval import profile_interventions
from read.io import write_jsonl
from read.jobs import model_job

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    p, i = snakemake.params, snakemake.input
    rows = profile_interventions(i.teacher, i.student, i.tokenizer, i.suite, i.s0_profile, i.r_tau, i.scale,
                                 i.s0_eval, task=p.task, seed=p.seed, shard=p.shard, n_shards=p.n_shards, profiling=p.profiling,
                                 generation=p.generation, student=p.student, teacher=p.teacher, budget=p.budget, evaluation=p.evaluation,
                                 batch_size=p.batch_size, threads=snakemake.threads)
    write_jsonl(snakemake.output[0], rows)
