"""One paper table (csv, md, tex) and, where it has one, its figure (png, pdf) from the runs."""

import logging

from read.aggregate import write_artefact
from read.jobs import user_errors
from read.jobserver import offload

offload(snakemake)  # pandas and seaborn are already imported in a warm process (read/jobserver.py)
logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with user_errors():
    i, options = snakemake.input, dict(snakemake.params.options)
    options.update({name: i[name] for name in ("teacher_profile",) if name in i.keys()})
    options.update({name: list(i[name]) for name in ("requirements",) if name in i.keys()})
    write_artefact(snakemake.params.name, i.runs, **dict(snakemake.output.items()), **options)
