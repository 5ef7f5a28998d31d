# After the last interval: the run's full capability profile and task score.


rule evaluate:
    input:
        unpack(final_inputs),
        data=DATA_FILES,
        task=task_files,
    output:
        f"{RUN}/final/eval.json",
    log:
        f"{RUN_LOGS}/evaluate.log",
    benchmark:
        f"{RUN_BENCHMARKS}/evaluate.tsv"
    conda:
        env_of("score")
    threads: threads_of("score")
    resources:
        **resources_of("score"),
    params:
        run=run_key,
        card=task_card,
        capabilities=capability_data,
        evaluation=config["evaluation"],
        settings=STUDENT_SETTINGS,
    script:
        "../scripts/evaluate.py"
