"""The BaLoRA-versus-baselines study on QMOF: per-split sample sets, curves over M and K, the report."""
