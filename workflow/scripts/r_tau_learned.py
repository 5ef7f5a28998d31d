"""A task's r_tau predicted by the learned identifier (rule r_tau_learned)."""

from read.io import write_json
from read.runtime import job
from read.steps.identifier import learned_requirement

with job(snakemake):
    i = snakemake.input
    write_json(snakemake.output[0], learned_requirement(i.identifier, i.embeddings, task=snakemake.params.task))
