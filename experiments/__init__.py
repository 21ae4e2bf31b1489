"""One-off studies of the renderer and the trained weights, apart from the product.

Each module is a command (`python -m experiments.probe_aus ...`) whose figures are recorded in
docs/training-log.md (localisation_depth's in docs/explanations.md); configs/ holds the training
configs of experiments. Experiments may import anything (`fatauva`, `train`); nothing of the product
(`fatauva/`, `explain/`, `demo/`, `train/`, `app.py`) imports them (tests/test_layers.py checks it).
Their tests carry the `experiment` marker: `python -m pytest -m "not experiment"` runs the product's
tests alone.
"""
