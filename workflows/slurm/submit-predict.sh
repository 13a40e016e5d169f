#!/usr/bin/env bash
# Submit sharded prediction and its merge: N array tasks, then a merge that runs once all succeeded.
#   INPUTS="/data/coremof/*.cif" OUT=predictions workflows/slurm/submit-predict.sh 8 [extra sbatch flags]
set -euo pipefail
shards=${1:?usage: submit-predict.sh N_SHARDS [sbatch flags]}
shift
here=$(dirname "$0")
array=$(sbatch --parsable --export=ALL --array="0-$((shards - 1))" "$@" "$here/predict-shards.sbatch")
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" "$@" "$here/merge.sbatch")
echo "prediction array $array, merge $merge"
