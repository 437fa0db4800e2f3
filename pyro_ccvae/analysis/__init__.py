"""What a trained run is asked: evaluation (evaluate.py) with the paper's metrics (metrics.py)
and the independent oracle (oracle.py), manipulations of real images (manipulate.py),
conditional generation (generate.py), comparisons with the baselines and classical classifiers
(compare.py, classical.py), figures and image grids (plots.py, grids.py), and the student
posters' latent-space analyses (latent_analysis.py with probe.py and directions.py;
frankenstein.py; interpolate.py)."""
