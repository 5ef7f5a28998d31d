"""One paper table (csv, md, tex) and, where it has one, its figure (png, pdf) from the runs."""

from read.aggregate import write_artefact
from read.runtime import job

with job(snakemake, warm=True):  # pandas and seaborn are already imported in a warm process
    i, options = snakemake.input, dict(snakemake.params.options)
    options.update({name: i[name] for name in ("teacher_profile",) if name in i.keys()})
    options.update({name: list(i[name]) for name in ("requirements",) if name in i.keys()})
    write_artefact(snakemake.params.name, i.runs, **dict(snakemake.output.items()), **options)
