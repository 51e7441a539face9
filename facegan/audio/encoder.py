"""The learned sound encoder: a small CNN over log-mel, trained as a sound classifier.

It takes SoundNet's role in the paper (Fig. 1): its 256-d penultimate activation is the sound vector
``s`` of the "learned" feature type. It is trained on the shared labelled clips only
(``python -m facegan.train sound_classifier``), on the training folds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from facegan.checkpoints import config_from_record, load_checkpoint, load_modules, train_command
from facegan.nn.blocks import ConvNormAct
from facegan.paths import checkpoint_dir


@dataclass
class EncoderConfig:
    """Architecture plus the fixed input scaling; saved with the weights so loading needs nothing else."""

    n_mels: int = 64
    width: int = 16  # channels of the first stage; each of the 4 stages doubles them
    embed_dim: int = 256
    num_classes: int = 12
    dropout: float = 0.3
    db_mean: float = -60.0  # global (not per-clip) scaling of the dB input, so the level survives
    db_std: float = 20.0
    pool: str = "mean"  # see POOLINGS


POOLINGS = {
    "mean": "mean over frequency and time: one value per channel (the original encoder)",
    "frequency": "frequency bands kept, mean + max over time: where in the spectrum a sound sits survives",
}
STAGES = 4


class SoundEncoder(nn.Module):
    """log-mel [B, n_mels, T] in dB -> 4 x (conv-BN-ReLU, 2x2 max-pool) -> pool -> 256-d -> classes."""

    def __init__(self, config: EncoderConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or EncoderConfig()
        if config.pool not in POOLINGS:
            raise ValueError(f"unknown pooling {config.pool!r}; choose from {', '.join(POOLINGS)}")
        layers: list[nn.Module] = []
        in_ch = 1
        for stage in range(STAGES):
            out_ch = config.width * 2**stage
            layers += [ConvNormAct(in_ch, out_ch, 3, norm="batch"), nn.MaxPool2d(2)]
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        pooled = in_ch * (config.n_mels // 2**STAGES if config.pool == "frequency" else 1)
        self.embedding = nn.Sequential(nn.Linear(pooled, config.embed_dim), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(config.embed_dim, config.num_classes))

    def embed(self, logmel_db: Tensor) -> Tensor:
        """The 256-d sound vector (post-ReLU) of each clip."""
        x = (logmel_db[:, None] - self.config.db_mean) / self.config.db_std
        return self.embedding(self._pool(self.features(x)))

    def _pool(self, maps: Tensor) -> Tensor:
        """[B, C, F, T] conv maps -> one vector per clip."""
        if self.config.pool == "mean":
            return maps.mean(dim=(2, 3))
        return (maps.mean(dim=3) + maps.amax(dim=3)).flatten(1)

    def forward(self, logmel_db: Tensor, with_embedding: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """Sound-class logits [B, num_classes]; with the embedding too when distilling a teacher (one
        call, so a DDP-wrapped encoder works)."""
        embedding = self.embed(logmel_db)
        logits = self.head(embedding)
        return (logits, embedding) if with_embedding else logits

    @torch.inference_mode()
    def probabilities(self, logmel_db: Tensor) -> Tensor:
        return self.probabilities_of(self.embed(logmel_db))

    @torch.inference_mode()
    def probabilities_of(self, embedding: Tensor) -> Tensor:
        """Class probabilities from an ``embed`` already computed, so a caller that needs both runs the
        convolutions once."""
        return self.head(embedding).float().softmax(dim=1)


def load_sound_encoder(name_or_path: str) -> SoundEncoder:
    """A trained encoder from a checkpoint name (``checkpoints/<name>``) or a run's ``.safetensors`` path."""
    path = Path(name_or_path)
    base = path.with_suffix("") if path.suffix == ".safetensors" else checkpoint_dir() / name_or_path
    state, record = load_checkpoint(base, train_command("sound_classifier", base.name))
    encoder = SoundEncoder(config_from_record(EncoderConfig, record["config"]["model"]))
    load_modules({"encoder": encoder}, state)
    return encoder.eval()
