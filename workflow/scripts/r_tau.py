"""r_tau of a task from its card's requirement weights (rule r_tau)."""

from read.capabilities import to_mapping
from read.io import write_json
from read.requirements import requirement_from_card
from read.runtime import job

with job(snakemake):
    r_tau = requirement_from_card(snakemake.params.requirement, snakemake.params.where)
    write_json(snakemake.output[0], {"task": snakemake.params.task, "r": to_mapping(r_tau)})
