# Paper-style tables (csv, md, tex) and figures (png, pdf) under results/<experiment>/,
# rebuilt from every run's final/eval.json (allocation schedules: every allocation.json).
# Which artefacts `all` builds is config `tables`; read.aggregate.report lists them.
# `snakemake --report` shows every table (csv) and figure (png) under its caption, the
# file workflow/report/<artefact>.rst that REPORT.md reads too. Snakemake fills no
# wildcards into a caption's path, so the outputs name ../report/artefact.rst, which
# includes the artefact's own caption, the input `caption` (report.smk: artefact_caption).


rule artefact_with_plot:
    input:
        unpack(artefact_inputs),
        caption=artefact_caption,
    output:
        csv=report(
            "results/{exp}/tables/{artefact}.csv",
            caption="../report/artefact.rst",
            category="Tables",
            subcategory="{artefact}",
        ),
        md="results/{exp}/tables/{artefact}.md",
        tex="results/{exp}/tables/{artefact}.tex",
        png=report(
            "results/{exp}/plots/{artefact}.png",
            caption="../report/artefact.rst",
            category="Figures",
            subcategory="{artefact}",
        ),
        pdf="results/{exp}/plots/{artefact}.pdf",
    log:
        "results/{exp}/logs/aggregate/{artefact}.log",
    wildcard_constraints:
        artefact=_alternatives(n for n, (_, figure) in ARTEFACTS.items() if figure),
    localrule: True
    conda:
        CPU_ENV
    params:
        name="{artefact}",
        options=artefact_options,
    script:
        "../scripts/artefact.py"


rule artefact_table:
    input:
        unpack(artefact_inputs),
        caption=artefact_caption,
    output:
        csv=report(
            "results/{exp}/tables/{artefact}.csv",
            caption="../report/artefact.rst",
            category="Tables",
            subcategory="{artefact}",
        ),
        md="results/{exp}/tables/{artefact}.md",
        tex="results/{exp}/tables/{artefact}.tex",
    log:
        "results/{exp}/logs/aggregate/{artefact}.log",
    wildcard_constraints:
        artefact=_alternatives(n for n, (_, figure) in ARTEFACTS.items() if not figure),
    localrule: True
    conda:
        CPU_ENV
    params:
        name="{artefact}",
        options=artefact_options,
    script:
        "../scripts/artefact.py"


# REPORT.md: every table and figure config `tables` asks for, each under its caption, and
# (with bandit methods) the proxy reward's validity per task after the allocation schedule.
rule report_md:
    input:
        unpack(report_md_inputs),
    output:
        report(
            "results/{exp}/REPORT.md",
            caption="../report/report_md.rst",
            category="Report",
        ),
    log:
        "results/{exp}/logs/aggregate/report_md.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        experiment="{exp}",
        validity=validity_keys,
    script:
        "../scripts/report_md.py"
