# After the last interval: the run's full capability profile and task score.


rule evaluate:
    input:
        unpack(final_inputs),
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
        gpu=MODEL_RES["gpu"],
        mem_mb=MODEL_RES["mem_mb"],
        runtime=MODEL_RES["runtime"],
    params:
        run=run_key,
        evaluation=config["evaluation"],
    script:
        "../scripts/evaluate.py"
