"""The shared training loop on a tiny DCGAN over ~32 real CelebA images at 32x32 (CPU, seconds)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from facegan.errors import CheckpointMissingError
from facegan.models.dcgan import DCGANConfig, Generator
from facegan.paths import REPO_ROOT, data_dir
from facegan.train.__main__ import main
from facegan.train.checkpoint import RECORD_FIELDS, completed_steps, latest_checkpoint, load_checkpoint

pytestmark = pytest.mark.skipif(
    not (data_dir() / "celeba" / "images").is_dir(),
    reason=f"CelebA not found under {data_dir()}/celeba (set FACEGAN_DATA or pass the shared data)",
)

TINY = ["--limit", "32", "--resolution", "32", "--width", "8", "--batch-size", "8", "--num-workers", "0"]
TINY += ["--device", "cpu", "--seed", "3", "--no-progress"]


def _train(run_dir: Path, steps: int, *extra: str) -> None:
    assert main(["dcgan", *TINY, "--steps", str(steps), "--run-dir", str(run_dir), *extra]) == 0


def _weights(run_dir: Path) -> dict[str, dict[str, torch.Tensor]]:
    path = latest_checkpoint(run_dir)
    assert path is not None
    return load_checkpoint(path)[0]


def test_checkpoint_files_record_and_tensorboard(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _train(run, 5, "--ckpt-every", "2", "--keep", "2", "--log-every", "1", "--image-every", "2", "--samples", "8")
    assert completed_steps(run) == [4, 5]  # steps 2, 4 and the final 5 were saved; keep=2 pruned step 2
    for suffix in (".safetensors", ".json", ".train_state.pt"):
        assert (run / "checkpoints" / f"step_00000005{suffix}").is_file()
    record = json.loads((run / "checkpoints" / "step_00000005.json").read_text())
    assert set(RECORD_FIELDS) <= set(record)
    assert record["model"] == "dcgan" and record["steps"] == 5 and record["modules"] == ["G", "D"]
    assert record["config"]["model"]["resolution"] == 32 and record["config"]["loss"] == "nonsaturating"
    assert record["data"]["counts"]["images"] == 32 and record["data"]["split"] == "train"
    assert record["hardware"]["device_type"] == "cpu" and record["hardware"]["world_size"] == 1
    assert record["hardware"]["torch"] == torch.__version__
    assert {"d_loss", "g_loss"} <= set(record["metrics"]) and record["wall_time_s"] > 0
    assert list((run / "tb").glob("events.out.tfevents.*"))


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_resume_reproduces_uninterrupted_run(tmp_path: Path, loss: str) -> None:
    """6 steps straight == 3 steps, a fresh process state, --resume to 6 (bitwise on CPU).

    3 steps end mid-epoch (4 batches of 8 per epoch), so the data position matters; the LR schedule,
    BatchNorm/LayerNorm state, n_critic cadence and gradient-penalty noise must all resume too.
    """
    extra = ["--loss", loss, "--lr-decay-steps", "6", "--n-critic", "2"]
    _train(tmp_path / "straight", 6, *extra)
    _train(tmp_path / "split", 3, *extra)
    torch.manual_seed(12345)  # disturb the global RNG: resume must restore it
    _train(tmp_path / "split", 6, "--resume", *extra)
    straight, resumed = _weights(tmp_path / "straight"), _weights(tmp_path / "split")
    assert straight.keys() == resumed.keys() == {"G", "D"}
    for module in straight:
        for key, value in straight[module].items():
            assert torch.equal(value, resumed[module][key]), f"{module}.{key} differs after resume"
    record = json.loads((tmp_path / "split" / "checkpoints" / "step_00000006.json").read_text())
    assert record["steps"] == 6 and record["data"]["samples_seen"] == 48


def test_export_and_load_checkpoint_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tmp_path / "shipped"
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(shipped))
    _train(tmp_path / "run", 2, "--export", "dcgan-tiny")
    assert sorted(p.name for p in shipped.iterdir()) == ["dcgan-tiny.json", "dcgan-tiny.safetensors"]
    state, record = load_checkpoint(shipped / "dcgan-tiny.safetensors")
    assert set(state) == {"G"} and record["modules"] == ["G"] and record["name"] == "dcgan-tiny"
    assert load_checkpoint(shipped / "dcgan-tiny")[1] == record  # stem and .json name the same files
    generator = Generator(DCGANConfig(**record["config"]["model"]))
    generator.load_state_dict(state["G"])
    trained = _weights(tmp_path / "run")["G"]
    assert all(torch.equal(generator.state_dict()[k], trained[k]) for k in trained)
    with torch.inference_mode():
        images = generator.eval()(torch.randn(2, record["config"]["model"]["z_dim"]))
    assert images.shape == (2, 3, 32, 32) and images.abs().max() <= 1
    with pytest.raises(CheckpointMissingError, match="not found"):
        load_checkpoint(shipped / "missing")


def test_time_based_checkpoints(tmp_path: Path) -> None:
    _train(tmp_path / "run", 3, "--ckpt-every", "1000", "--ckpt-every-s", "0", "--keep", "5")
    assert completed_steps(tmp_path / "run") == [1, 2, 3]


@pytest.mark.timeout(120)
def test_sigterm_saves_and_exits_cleanly(tmp_path: Path) -> None:
    """A background job killed at session end (SIGTERM) checkpoints the step it was on and exits 0."""
    run = tmp_path / "run"
    command = [sys.executable, "-m", "facegan.train", "dcgan", *TINY, "--steps", "100000", "--run-dir", str(run)]
    command += ["--ckpt-every", "5"]
    proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while not completed_steps(run) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, output[-3000:]
    # The signal came after the step-5 checkpoint; the stop saved the step it interrupted, and the
    # process left long before its 100000 steps.
    assert completed_steps(run)[-1] > 5


def test_resume_on_fresh_run_dir_starts_from_zero(tmp_path: Path) -> None:
    _train(tmp_path / "run", 1, "--resume")
    assert completed_steps(tmp_path / "run") == [1]


@pytest.mark.timeout(180)
def test_ddp_two_cpu_processes(tmp_path: Path) -> None:
    """torchrun with 2 gloo processes trains, and only rank 0 writes one checkpoint recording world_size 2."""
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "FACEGAN_CHECKPOINTS": str(tmp_path / "shipped")}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    command += ["-m", "facegan.train", "dcgan", *TINY, "--batch-size", "4", "--steps", "3", "--run-dir", str(run)]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=170)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert completed_steps(run) == [3]
    assert len(list((run / "checkpoints").iterdir())) == 3  # one .safetensors, .json, .train_state.pt
    record = json.loads((run / "checkpoints" / "step_00000003.json").read_text())
    assert record["hardware"]["world_size"] == 2 and record["data"]["samples_seen"] == 3 * 4 * 2
    assert len(torch.load(run / "checkpoints" / "step_00000003.train_state.pt")["rng"]) == 2


def test_cpu_budget_stops_saves_and_records_throughput(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _train(run, 50, "--stop-after-cpu-s", "0.001")
    assert completed_steps(run) == [1]  # over budget after the first step: saved and stopped
    record = json.loads((run / "checkpoints" / "step_00000001.json").read_text())
    assert record["cpu_time_s"] > 0 and record["images_per_s"] > 0


@pytest.mark.parametrize(("flags", "native"), [("fpu avx2 avx512f", False), ("fpu avx512f avx512_bf16", True),
                                                ("fpu amx_bf16 amx_tile", True)])
def test_native_bf16_is_read_from_the_cpu_flags(tmp_path: Path, flags: str, native: bool) -> None:
    from facegan.train.loop import cpu_has_native_bf16

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: {flags}\n")
    assert cpu_has_native_bf16(cpuinfo) is native
    assert cpu_has_native_bf16(tmp_path / "missing") is False


@pytest.mark.parametrize("native", [False, True])
def test_auto_precision_on_cpu_is_bf16_only_where_native(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    from facegan.train import loop

    monkeypatch.setattr(loop, "cpu_has_native_bf16", lambda: native)
    assert loop.resolve_amp("auto", torch.device("cpu")) == (torch.bfloat16 if native else None)
    assert loop.resolve_amp("off", torch.device("cpu")) is None


def test_stop_at_reproduces_an_early_stopped_run_and_exports_it(tmp_path: Path, monkeypatch) -> None:
    """--stop-at 2 of a 4-step schedule equals the 4-step run's second step, and is exported."""
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path / "shipped"))
    _train(tmp_path / "early", 4, "--stop-at", "2", "--export", "early", "--ckpt-every", "1", "--keep", "10")
    _train(tmp_path / "full", 4, "--ckpt-every", "1", "--keep", "10")
    assert completed_steps(tmp_path / "early") == [1, 2]
    early = load_checkpoint(tmp_path / "early" / "checkpoints" / "step_00000002.safetensors")[0]
    full = load_checkpoint(tmp_path / "full" / "checkpoints" / "step_00000002.safetensors")[0]
    assert all(torch.equal(value, full["G"][key]) for key, value in early["G"].items())
    assert json.loads((tmp_path / "shipped" / "early.json").read_text())["steps"] == 2


def test_export_ships_the_newest_checkpoint_or_a_snapshot_on_the_way(tmp_path: Path) -> None:
    from facegan.train.export import main as export

    run = tmp_path / "run"
    _train(run, 3, "--ckpt-every", "1", "--keep", "10")
    export([str(run), "newest", "--out-dir", str(tmp_path)])
    export([str(run), "snapshot", "--out-dir", str(tmp_path), "--step", "2"])
    assert json.loads((tmp_path / "newest.json").read_text())["steps"] == 3
    assert json.loads((tmp_path / "snapshot.json").read_text())["steps"] == 2
    step_two = load_checkpoint(run / "checkpoints" / "step_00000002.safetensors")[0]["G"]
    shipped = load_checkpoint(tmp_path / "snapshot.safetensors")[0]["G"]
    assert all(torch.equal(value, step_two[key]) for key, value in shipped.items())
    with pytest.raises(CheckpointMissingError, match="no complete checkpoint at step 7"):
        export([str(run), "missing", "--out-dir", str(tmp_path), "--step", "7"])
