"""One shard of the profiling interventions of a task and seed (rule profile_interventions)."""

import logging
import sys

from read.io import write_jsonl

try:
    from read.interval import profile_interventions
except ImportError:  # TEMPORARY until read/interval.py lands: its proposed text is interim_interval.py
    sys.path.insert(0, snakemake.scriptdir)
    from interim_interval import profile_interventions

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
p, i = snakemake.params, snakemake.input
rows = profile_interventions(i.teacher, i.student, i.tokenizer, i.suite, i.s0_profile, i.r_tau, i.scale,
                             task=p.task, seed=p.seed, shard=p.shard, n_shards=p.n_shards, profiling=p.profiling,
                             generation=p.generation, student=p.student, teacher=p.teacher, budget=p.budget,
                             batch_size=p.batch_size, threads=snakemake.threads)
write_jsonl(snakemake.output[0], rows)
