# Prediction with the workflow's default model, as N shards merged into one table, then screening.
PREDICT = config["predict"]
SHARDS = range(PREDICT["shards"])


rule predict_shard:
    input:
        ancient(f"{DEFAULT_MODEL}/README.md"),
    output:
        f"{R}/predict/shard-{{shard}}.csv",
    benchmark:
        f"{R}/predict/benchmark-shard-{{shard}}.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {MOFGAP} predict {PREDICT[inputs]} --model {DEFAULT_MODEL} "
        "--shard {wildcards.shard}/{PREDICT[shards]} --samples {PREDICT[samples]} --workers 1 "
        "--cache {config[cache]} -o {output} --resume 2> {output}.log"


rule predict_merge:
    input:
        expand(f"{R}/predict/shard-{{shard}}.csv", shard=SHARDS),
    output:
        f"{R}/predict/predictions.csv",
    shell:
        "{MOFGAP} merge {input} -o {output}"


rule screen:
    input:
        f"{R}/predict/predictions.csv",
    output:
        f"{R}/predict/shortlist.csv",
    shell:
        "{MOFGAP} screen {input} --objective {PREDICT[objective]} --acquisition {PREDICT[acquisition]} "
        "--top {PREDICT[top]} --diversity 1 -o {output}"
