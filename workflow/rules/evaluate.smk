# After the last interval: the run's full capability profile and task score.


rule evaluate:
    input:
        unpack(final_inputs),
        data=DATA_FILES,
        task=task_files,
    output:
        "results/{exp}/runs/{task}/{method}/B{budget}/seed{seed}/final/eval.json",
    log:
        "results/{exp}/logs/runs/{task}/{method}/B{budget}/seed{seed}/evaluate.log",
    benchmark:
        "results/{exp}/benchmarks/runs/{task}/{method}/B{budget}/seed{seed}/evaluate.tsv"
    conda:
        MODEL_ENV
    threads: MODEL_RES["threads"]
    resources:
        **resources_of("model"),
    params:
        run=run_key,
        card=task_card,
        capabilities=capability_data,
        evaluation=config["evaluation"],
        chat_template=STUDENT["chat_template"],
    script:
        "../scripts/evaluate.py"
