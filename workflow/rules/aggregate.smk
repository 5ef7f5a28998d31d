# Paper-style tables (csv, md, tex) and figures (png, pdf) under results/<experiment>/,
# rebuilt from every run's final/eval.json (allocation schedules: every allocation.json).
# Which artefacts `all` builds is config `tables`; read.aggregate.report lists them.


rule artefact_with_plot:
    input:
        unpack(artefact_inputs),
    output:
        csv="results/{exp}/tables/{artefact}.csv",
        md="results/{exp}/tables/{artefact}.md",
        tex="results/{exp}/tables/{artefact}.tex",
        png="results/{exp}/plots/{artefact}.png",
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
    output:
        csv="results/{exp}/tables/{artefact}.csv",
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
