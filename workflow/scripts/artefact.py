"""One paper table (csv, md, tex) and, where it has one, its figure (png, pdf) from the runs."""

from read.aggregate import write_artefact
from read.aggregate.report import ARTEFACT_OPTIONS
from read.runtime import job

with job(snakemake, warm=True):  # pandas and seaborn are already imported in a warm process
    i, name, options = snakemake.input, snakemake.params.name, dict(snakemake.params.options)
    options.update({key: list(i[key]) for key in ARTEFACT_OPTIONS.get(name, ()) if key in i.keys()})
    write_artefact(name, i.runs, **dict(snakemake.output.items()), **options)
