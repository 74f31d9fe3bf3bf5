"""Result objects: fitted models, their summaries, plots and model files."""
