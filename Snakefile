# ReAD: budgeted capability distillation as a chain of per-interval file targets.
#   snakemake --cores 2                           embedded default (config/config.yaml)
#   snakemake --profile workflow/profiles/slurm   on a SLURM cluster
# Layout and data flow: README.md and config/README.md.
import os

from snakemake.utils import min_version

min_version("9.19")


# `snakemake --report report.html`: this description, then every table and figure.
report: "workflow/report/workflow.rst"


# envs/*.yaml install this checkout into conda environments (`-e ${READ_DISTILL_ROOT}`).
os.environ.setdefault("READ_DISTILL_ROOT", workflow.basedir)


# The embedded default, unless --configfile names the config: Snakemake would otherwise
# merge the two, and a general-path config would inherit the default's `world:`.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


include: "workflow/rules/common.smk"


if WORLD:

    include: "workflow/rules/world.smk"


include: "workflow/rules/setup.smk"


if USES_IDENTIFIER:

    include: "workflow/rules/identifier.smk"


include: "workflow/rules/interval.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/aggregate.smk"


rule all:
    default_target: True
    input:
        final_targets(),
    localrule: True


# Only the shared setup targets (probes, r_tau, profiling interventions; with `world:` the
# embedded models and their reports).
rule setup:
    input:
        setup_targets(),
    localrule: True
