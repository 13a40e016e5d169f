# Data preparation: an optional split of a small dataset, featurization into the graph cache, and an
# optional pretraining of the backbone (the full QMOF configuration uses the shipped backbone).


rule prepare_split:
    output:
        f"{R}/prepare/split.csv",
    params:
        train=config.get("make_split", {}).get("train", 0.6),
        val=config.get("make_split", {}).get("val", 0.2),
    run:
        from mofgap.data.qmof import QMOF as Database, write_random_split

        write_random_split(Database(QMOF), output[0], train=params.train, val=params.val, seed=0)


rule featurize:
    output:
        f"{R}/featurize/report.csv",
    benchmark:
        f"{R}/featurize/benchmark.tsv"
    threads: 2
    run:
        from mofgap.data.qmof import QMOF as Database

        structures = Database(QMOF).structures_dir()  # the folder, or the official archive unpacked once
        shell("{MOFGAP} featurize {structures:q} --cache {config[cache]} --workers {threads} --quiet --report {output}")


rule pretrain:
    input:
        ancient(f"{R}/featurize/report.csv"),
        prepared_split=lambda wc: [SPLIT] if SPLIT else [],
    output:
        f"{R}/backbone/config.json",
    params:
        settings=lambda wc: " ".join(f"--{key.replace('_', '-')} {value}" for key, value in config["pretrain"].items()),
    log:
        f"{R}/pretrain/train.log",
    benchmark:
        f"{R}/pretrain/benchmark.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {MOFGAP} pretrain {DATA_FLAGS} --out {R}/backbone --run-dir {R}/pretrain/run "
        "--device {config[device]} {params.settings} > {log} 2>&1"
