"""Training: the settings (config.py), the model registry (registry.py), building a model for a
data set (build.py), the fit loop with its checkpoints and NaN guard (loop.py), run folders on
disk (checkpoint.py), whole runs (runs.py), data-parallel training on several processes
(distributed.py), validation measures and throughput (bench.py)."""
