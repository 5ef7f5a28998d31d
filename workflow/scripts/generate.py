"""Interval k's teacher data: templates sampled by w_k within the gen-token share (rule generate)."""

import logging

from read.interval import generate_batch
from read.io import write_json, write_jsonl
from read.jobs import model_job

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    p, i, o = snakemake.params, snakemake.input, snakemake.output
    rows, manifest = generate_batch(i.allocation, i.teacher, i.tokenizer, i.ledger, i.scale, k=p.k,
                                    n_intervals=p.n_intervals, generation=p.generation, teacher=p.teacher, seed=p.seed)
    write_jsonl(o.batch, rows)
    write_json(o.manifest, manifest)
