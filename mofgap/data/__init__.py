"""Datasets: QMOF in its official layout, split files, per-atom pretraining targets, the bundled sample."""
