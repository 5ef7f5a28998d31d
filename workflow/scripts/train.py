"""S_k: S_{k-1} trained on interval k's batch within the train-token share (rule train)."""

import logging

from read.io import write_json
from read.jobs import model_job
from read.steps.interval import train_interval
from read.students import StudentConfig

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    p, i, o = snakemake.params, snakemake.input, snakemake.output
    ledger = train_interval(i.base, i.student, i.batch, i.manifest, i.ledger, i.tokenizer, o.student, k=p.k,
                            student=StudentConfig.from_dict(p.student), teacher_tokenizer=i.get("teacher_tokenizer"),
                            seed=p.seed, threads=snakemake.threads)
    write_json(o.ledger, ledger)
