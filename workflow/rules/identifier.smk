# The learned requirement identifier g_phi (read.identifier): card text embedded by a frozen
# encoder, a 2-layer MLP and a softmax, trained on the profiling interventions of the
# identifier's tasks. With identifier.leave_one_out each task is predicted by a g_phi
# trained without it, and the report compares those with the cards.


rule card_embeddings:
    input:
        unpack(encoder_inputs),
    output:
        "results/{exp}/setup/identifier/cards.json",
    log:
        "results/{exp}/logs/setup/identifier/card_embeddings.log",
    conda:
        env_of("score")
    threads: threads_of("score")
    resources:
        **resources_of("score"),
    params:
        cards=identifier_cards,
    script:
        "../scripts/card_embeddings.py"


rule train_identifier:
    input:
        unpack(identifier_interventions),
        embeddings="results/{exp}/setup/identifier/cards.json",
    output:
        directory("results/{exp}/setup/identifier/{variant}"),
    log:
        "results/{exp}/logs/setup/identifier/train_{variant}.log",
    wildcard_constraints:
        variant=r"all|without_\w+",
    localrule: True
    conda:
        CPU_ENV
    params:
        tasks=identifier_tasks_of,
        identifier=config["identifier"],
    script:
        "../scripts/train_identifier.py"


rule r_tau_learned:
    input:
        unpack(learned_requirement_inputs),
    output:
        "results/{exp}/setup/tasks/{task}/r_tau_learned.json",
    log:
        "results/{exp}/logs/setup/r_tau_learned_{task}.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        task="{task}",
    script:
        "../scripts/r_tau_learned.py"


rule identifier_report:
    input:
        unpack(identifier_report_inputs),
    output:
        json="results/{exp}/setup/identifier/report.json",
        md="results/{exp}/setup/identifier/report.md",
    log:
        "results/{exp}/logs/setup/identifier/report.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        truth=identifier_truth,
    script:
        "../scripts/identifier_report.py"
