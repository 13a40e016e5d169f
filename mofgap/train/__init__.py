"""Training: pretraining and fine-tuning loops, batching, checkpoints and resume."""
