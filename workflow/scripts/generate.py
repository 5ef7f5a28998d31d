"""Interval k's teacher data: pool prompts sampled by w_k within the gen-token share (rule generate)."""

from read.batches import write_batch
from read.capability_data import from_params
from read.config import GenerationConfig, ProbesConfig
from read.io import write_json
from read.runtime import job
from read.steps.interval import generate_batch
from read.teachers import TeacherConfig

with job(snakemake, model=True):  # a warm forked process on local runs; torch on this job's cores
    p, i, o = snakemake.params, snakemake.input, snakemake.output
    rows, manifest = generate_batch(
        i.allocation, i.ledger, i.scale, i.index, i.student_tokenizer, k=p.k, n_intervals=p.n_intervals,
        generation=GenerationConfig.from_dict(p.generation), teacher=TeacherConfig.from_dict(p.teacher),
        chat_template=p.chat_template, sources=from_params(p.capabilities), probes=ProbesConfig.from_dict(p.probes),
        seed=p.seed)
    write_json(o.manifest, write_batch(o.batch, rows, manifest))  # + batch.topk.npz for signals with top-k
