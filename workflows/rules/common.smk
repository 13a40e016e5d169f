# Settings every rule shares, derived from the config (see workflows/config/*.yaml).
import json
import shlex

R = config["results"]
MOFGAP = "mofgap"
QMOF = config["qmof"]
# split: the dataset's own, or one made by the `prepare_split` rule (config `make_split`)
SPLIT = f"{R}/prepare/split.csv" if "make_split" in config else ""
SPLIT_FLAG = f"--split-file {SPLIT}" if SPLIT else ""
# backbone: a shipped model, or one pretrained by the `pretrain` rule (config `pretrain`)
BACKBONE = f"{R}/backbone" if "pretrain" in config else config["backbone"]
DATA_FLAGS = f"--qmof {shlex.quote(QMOF)} --cache {shlex.quote(config['cache'])} {SPLIT_FLAG} --workers 1"
COMMON = f"{DATA_FLAGS} --backbone {BACKBONE} --device {config['device']}"
DEFAULT_MODEL = config["default_model_dir"]


def prepared(wildcards=None):
    """Inputs every training step needs: the split and the backbone when this workflow makes them.

    They are `ancient`: a re-made split or backbone file does not by itself redo finished training.
    """
    needed = []
    if SPLIT:
        needed.append(ancient(SPLIT))
    if "pretrain" in config:
        needed.append(ancient(f"{BACKBONE}/config.json"))
    return needed
