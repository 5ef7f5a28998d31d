# The reports' targets and input functions: REPORT.md (rule report_md) and the captions
# of `snakemake --report report.html` (rules artefact_*), all in aggregate.smk. Snakemake's
# linter wants functions and rules in separate files, like common.smk.
# Every caption is one file, workflow/report/<artefact>.rst, read by both reports.


def report_targets():
    return [f"results/{EXP}/REPORT.md"]


def caption_file(name):
    """workflow/report/<name>.rst: the one source of a table's or figure's caption."""
    return workflow.source_path(f"../report/{name}.rst")


def artefact_caption(wildcards):
    """The artefact's caption for --report; ancient(): an edit changes the reports, not the table."""
    return ancient(caption_file(wildcards.artefact))


def validity_keys(wildcards):
    """[task, seed] of every reward-validity report, in the order of report_md_inputs: one
    per intervention set a bandit run starts from (profiling_runs, as setup_targets)."""
    return [[task, seed] for task, seed, _ in profiling_runs()]


def report_md_inputs(wildcards):
    """Per artefact in config `tables`, its caption, Markdown table and figure; the validity
    reports in the order of validity_keys, with their caption."""
    inputs = {
        "captions": [caption_file(n) for n in ARTEFACT_NAMES],
        "tables": [f"results/{EXP}/tables/{n}.md" for n in ARTEFACT_NAMES],
        "figures": [
            f"results/{EXP}/plots/{n}.png" for n in ARTEFACT_NAMES if ARTEFACTS[n][1]
        ],
        "validity": [
            interventions_path(task, seed, size, ".validity.json")
            for task, seed, size in profiling_runs()
        ],
    }
    if inputs["validity"]:
        inputs["validity_caption"] = caption_file("reward_validity")
    return inputs
