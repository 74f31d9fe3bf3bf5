"""A smoke run of benchmarks/bench_cnn.py: both tools train the same CNN and a result is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_cnn_runs_both_tools_on_the_same_network(tmp_path: Path):
    out = tmp_path / "cnn.json"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_cnn.py"), "--n", "256", "--n-test",
         "64", "--epochs", "2", "--out", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    dlstat, keras = report["dlstat"], report["keras"]
    assert dlstat["n_parameters"] == keras["n_parameters"]  # the same model in both tools
    for result in (dlstat, keras):
        assert len(result["epoch_s"]) == len(result["epoch_cpu_s"]) == 2
        assert 0.0 <= result["test_accuracy"] <= 1.0
    assert report["steady_epoch_ratio_dlstat_over_keras"] > 0
    assert report["machine"]["matmul_gflops"] > 0
    assert "time dlstat / Keras" in proc.stdout
