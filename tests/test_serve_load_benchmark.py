"""benchmarks/serve_load.py measures what it says: one short run against the real app."""

from __future__ import annotations

import json
import subprocess
import sys

from facegan.paths import REPO_ROOT


def test_serve_load_reports_latency_throughput_and_memory(tmp_path) -> None:
    results = tmp_path / "results"
    code = (
        "import sys, common; common.RESULTS_DIR = __import__('pathlib').Path(sys.argv[1]); "
        "sys.argv = ['serve_load.py', '--clients', '2', '--seconds', '4', '--warmup', '1', '--idle', '1']; "
        "import serve_load; serve_load.main()"
    )
    subprocess.run([sys.executable, "-c", code, str(results)], cwd=REPO_ROOT / "benchmarks", check=True,
                   capture_output=True, timeout=600)  # fmt: skip
    figures = json.loads((results / "serve_load.json").read_text())
    assert figures["errors"] == 0 and figures["requests"] > 0 and figures["requests_per_s"] > 0
    assert set(figures["per_endpoint"]) <= {"/attribute_transfer", "/au_edit", "/genegan_swap", "/genegan_grid",
                                            "/sound_to_scene"}  # fmt: skip
    assert figures["cpu_s"]["server"] > 0 and figures["cpu_s"]["clients"] > 0
    assert figures["server_cpu_ms_per_request"] > 0
    memory = figures["rss_mb"]
    assert memory["after_warmup"] > 100 and memory["idle_s"] == 1 and memory["after_idle"] > 100
