"""r_tau of a task: its card's weights, the learned identifier's, or uniform (rule r_tau)."""

from read.io import write_json
from read.runtime import job
from read.steps.setup import requirement

with job(snakemake):
    p, i = snakemake.params, snakemake.input
    write_json(snakemake.output[0], requirement(p.task, p.source, p.requirement, p.where,
                                                identifier=i.get("identifier"), embeddings=i.get("embeddings")))
