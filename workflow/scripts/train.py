"""S_k: S_{k-1} trained on interval k's batch within the train-token share (rule train)."""

from read.io import write_json
from read.runtime import job
from read.steps.interval import train_interval
from read.students import StudentConfig

with job(snakemake, model=True):  # a warm forked process on local runs; torch on this job's cores
    p, i, o = snakemake.params, snakemake.input, snakemake.output
    ledger = train_interval(i.base, i.student, i.batch, i.manifest, i.ledger, i.tokenizer, o.student, k=p.k,
                            student=StudentConfig.from_dict(p.student), teacher_tokenizer=i.get("teacher_tokenizer"),
                            seed=p.seed, threads=snakemake.threads)
    write_json(o.ledger, ledger)
