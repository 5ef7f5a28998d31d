"""g_phi trained on the identifier tasks' profiling interventions (rule train_identifier)."""

from read.identifier import IdentifierConfig
from read.runtime import job
from read.steps.identifier import train_identifier

with job(snakemake):
    p, i = snakemake.params, snakemake.input
    settings = {k: v for k, v in p.identifier.items() if k not in ("encoder", "tokenizer", "tasks", "leave_one_out")}
    train_identifier(snakemake.output[0], i.embeddings, {t: list(i[t]) for t in p.tasks}, tasks=list(p.tasks),
                     cfg=IdentifierConfig(**settings))
