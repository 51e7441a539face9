"""``python -m facegan.eval eggan``: does EGGAN produce the requested AUs, and keep the person?

EGGAN's Table 1 protocol on our data: every val face (source) is edited towards the AU vector of
another real val face (target; a fixed random derangement), and the Foundation AU annotator (MediaPipe
blendshapes, ``facegan.faces.aus``; our stand-in for OpenFace) measures the 17 AUs on the generated
128 px crop. Per AU, MSE and Pearson's r between target and measured intensities over all sources
whose output the annotator finds a face in, plus their average over AUs. The same figures for the
trivial baseline "output = input" (the source's own AUs) show what the edit gains. Both of the app's
modes are scored: the generator's own face G(l, u_t), and the photo with the generator's change added
(``keep_photo_detail``, the tab's default). AU9 is ~0 on every
real face (MediaPipe never fires noseSneer), so its r is undefined (spread < ``MIN_STD``) and left
out of the PCC average; its MSE (~0 for any output without a nose wrinkle) stays in the MSE average,
as in the paper.

Also measured:

- identity: dlib's descriptor (the attribute issue's model), cosine and verification rate (distance
  < 0.6) of source vs each mode's edit and source vs reconstruction, next to source vs target
  (different people);
- reconstruction G(E(x), u_x): L1 in [0, 1] pixel units, PSNR, MS-SSIM;
- colour: the chroma change outside the facial features (fringes) and the chroma ripple added inside
  them (stripes and speckle over the mouth and eyes), for each mode;
- realism: the Fréchet distance in the attribute judge's features, next to the real-vs-real floor;
- interpolation (Eq. 8): alpha in 0, 0.25, .., 1 for the first ``--interp-limit`` sources; for every
  (source, AU) whose target differs by >= 1 intensity level, Spearman's rho between alpha and the
  measured AU oriented towards the target (1 = moves monotonically towards it), and the fraction of
  alpha steps that move it towards the target; plus the mean distance to the target per alpha; for
  each mode.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import pearsonr, spearmanr
from torch import Tensor
from tqdm import tqdm

from facegan.eval.identity import MODEL_DESCRIPTION, IdentityModel
from facegan.faces import AU_NUMBERS
from facegan.losses import ms_ssim
from facegan.models.eggan import interpolate_aus
from facegan.pipelines import AUEditor, keep_photo_detail, tensor_to_image
from facegan.data.celeba_aus import ValFaces, measure_aus, val_faces
from facegan.eval.realism import realism
from facegan.faces.align import feature_region_mask
from facegan.models.judge import AttributeJudge, load_judge

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
MIN_CHANGE = 1.0
"""Interpolation counts an AU only when source and target differ by at least one intensity level."""
MIN_STD = 0.05
"""Below this spread (in intensity levels) an AU counts as constant: AU9's targets never exceed 0.02."""
PAPER_ANCHOR = {"mse": 0.24, "pcc": 0.66}
MODES = {"eggan": "generated face", "eggan_detail": "photo detail kept"}
"""The app's two ways of showing an edit (``AUEditor.edit``'s ``keep_detail``), by result key."""


def add_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("eggan")
    group.add_argument("--checkpoint", default="eggan", help="checkpoint name in the checkpoint dir")
    group.add_argument("--limit", type=int, default=500, help="val source faces (default 500)")
    group.add_argument("--interp-limit", type=int, default=150, help="sources for the interpolation test")
    group.add_argument("--batch-size", type=int, default=50)
    group.add_argument("--seed", type=int, default=0, help="seed of the source -> target assignment")
    group.add_argument("--annotations", help="annotation cache (default: the user cache)")
    group.add_argument("--judge", help="face network of the realism figure (default: checkpoints/attr_judge)")


def derangement(n: int, seed: int) -> np.ndarray:
    """A random permutation with no fixed point: every source gets another face's AUs."""
    order = np.random.default_rng(seed).permutation(n)
    target = np.empty(n, dtype=np.int64)
    target[order] = np.roll(order, 1)
    return target


def _pcc(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r, or None where either side is (nearly) constant and r would be noise."""
    if x.std() < MIN_STD or y.std() < MIN_STD:
        return None
    return float(pearsonr(x, y).statistic)


def au_table(target: np.ndarray, measured: np.ndarray) -> dict[str, Any]:
    """Table 1's row pair: per-AU MSE and PCC between target and measured AUs, and their averages.

    With no rows (the annotator found no face in any output) every figure is None.
    """
    if not len(target):
        empty = {str(n): None for n in AU_NUMBERS}
        return {"mse": empty, "pcc": empty, "mse_avg": None, "pcc_avg": None, "pcc_undefined": list(AU_NUMBERS)}
    mse = ((measured - target) ** 2).mean(axis=0)
    pcc = [_pcc(target[:, j], measured[:, j]) for j in range(target.shape[1])]
    defined = [p for p in pcc if p is not None]
    return {
        "mse": {str(n): round(float(v), 4) for n, v in zip(AU_NUMBERS, mse, strict=True)},
        "pcc": {str(n): None if p is None else round(p, 4) for n, p in zip(AU_NUMBERS, pcc, strict=True)},
        "mse_avg": round(float(mse.mean()), 4),
        "pcc_avg": round(float(np.mean(defined)), 4) if defined else None,
        "pcc_undefined": [n for n, p in zip(AU_NUMBERS, pcc, strict=True) if p is None],
    }


def interpolation_scores(source: np.ndarray, target: np.ndarray, curves: np.ndarray) -> dict[str, Any]:
    """Monotonicity of measured AUs along alpha; ``curves`` is [N, len(ALPHAS), 17] (NaN = no face)."""
    direction = np.sign(target - source)
    rhos, toward = [], []
    for i, j in zip(*np.nonzero(np.abs(target - source) >= MIN_CHANGE), strict=True):
        curve = curves[i, :, j] * direction[i, j]
        if np.isnan(curve).any():
            continue
        toward.extend(np.diff(curve) > 0)
        if np.ptp(curve) > 0:
            rhos.append(spearmanr(ALPHAS, curve).statistic)
    measured = ~np.isnan(curves).any(axis=2)
    distance = [float(np.abs(curves[:, k][measured[:, k]] - target[measured[:, k]]).mean()) if measured[:, k].any()
                else None for k in range(len(ALPHAS))]  # fmt: skip
    return {
        "alphas": list(ALPHAS),
        "changed_au_pairs": len(toward) // (len(ALPHAS) - 1),
        "monotonicity_spearman": round(float(np.mean(rhos)), 4) if rhos else None,
        "steps_toward_target": round(float(np.mean(toward)), 4) if toward else None,
        "mean_abs_distance_to_target": [None if d is None else round(d, 4) for d in distance],
    }


YCBCR_CHROMA = torch.tensor([[-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
"""RGB -> (Cb, Cr) rows of ITU-R BT.601 (the offsets cancel in a difference)."""


def chroma(images: Tensor) -> Tensor:
    """[N, 3, H, W] in [-1, 1] -> [N, 2, H, W] Cb and Cr in 0-255 units, without their offsets."""
    return torch.einsum("cr,nrhw->nchw", YCBCR_CHROMA, images * 127.5)


def chroma_change_outside(before: Tensor, after: Tensor, features: np.ndarray) -> np.ndarray:
    """Per face, the mean absolute change of Cb and Cr (0-255 units) over the pixels outside the facial-feature
    regions ``features`` [N, H, W] (bool): colour that an expression edit has no reason to touch."""
    change = chroma(after - before).abs().mean(dim=1).numpy()
    outside = ~features
    return (change * outside).sum(axis=(1, 2)) / outside.sum(axis=(1, 2)).clip(min=1)


LAPLACIAN = torch.tensor([[[[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]]])


def chroma_ripple_added_inside(before: Tensor, after: Tensor, features: np.ndarray) -> np.ndarray:
    """Per face, the chroma ripple an edit adds inside the facial-feature regions ``features`` [N, H, W]:
    the mean |Laplacian| of Cb and Cr (0-255 units) over those pixels, edit minus input. The outside figure
    cannot see stripes and speckle drawn over the mouth and eyes; this one rises with them, while a smooth
    change of shape or lip colour barely moves it."""

    def ripple(images: Tensor) -> np.ndarray:
        planes = chroma(images).flatten(0, 1)[:, None]
        return F.conv2d(planes, LAPLACIAN, padding=1).abs().reshape(len(images), 2, *images.shape[-2:]).mean(1).numpy()

    added = ripple(after) - ripple(before)
    return (added * features).sum(axis=(1, 2)) / features.sum(axis=(1, 2)).clip(min=1)


def psnr(a: Tensor, b: Tensor) -> Tensor:
    """Per-image PSNR in dB of [-1, 1] images (peak 1 in [0, 1] units)."""
    mse = ((a - b) / 2).pow(2).flatten(1).mean(dim=1)
    return 10 * torch.log10(1 / mse.clamp_min(1e-10))


@torch.inference_mode()
def evaluate(
    model: AUEditor, identity: IdentityModel, judge: AttributeJudge, faces: ValFaces, seed: int, batch_size: int,
    interp_limit: int,
) -> dict[str, Any]:
    """Every figure of the module docstring for ``faces`` (images, cached AUs and landmarks)."""
    images, aus = faces.images, faces.aus
    regions = np.stack([feature_region_mask(points, images.shape[-1]) for points in faces.points68])
    order = derangement(len(images), seed)
    targets = aus[torch.from_numpy(order)]
    outputs = (*MODES, "output_equals_input")
    measured: dict[str, list[np.ndarray]] = {key: [] for key in outputs}
    found: dict[str, list[np.ndarray]] = {key: [] for key in outputs}
    compared = (*MODES, "reconstruction", "target_face")
    cosines: dict[str, list[np.ndarray]] = {key: [] for key in compared}
    verified: dict[str, list[np.ndarray]] = {key: [] for key in compared}
    recon: dict[str, list[Tensor]] = {"l1": [], "psnr": [], "ms_ssim": []}
    curves: dict[str, list[np.ndarray]] = {key: [] for key in MODES}
    chroma: dict[str, list[np.ndarray]] = {key: [] for key in MODES}
    ripple: dict[str, list[np.ndarray]] = {key: [] for key in MODES}
    features: dict[str, list[np.ndarray]] = {key: [] for key in ("real", *MODES)}
    for start in tqdm(range(0, len(images), batch_size), desc="eggan", unit="batch"):
        x, u, u_t = (t[start : start + batch_size] for t in (images, aus, targets))
        latent = model.encode_crops(x)
        edit, rec = model.render(latent, u_t).map(Tensor.cpu), model.render(latent, u).face.cpu()
        batches = {"eggan": edit.face, "eggan_detail": keep_photo_detail(x, edit, rec), "output_equals_input": x}
        features["real"].append(judge.embed(x).numpy())
        for key in MODES:
            chroma[key].append(chroma_change_outside(x, batches[key], regions[start : start + batch_size]))
            ripple[key].append(chroma_ripple_added_inside(x, batches[key], regions[start : start + batch_size]))
            features[key].append(judge.embed(batches[key]).numpy())
        for key, batch in batches.items():
            values, ok = measure_aus(batch)
            measured[key].append(values)
            found[key].append(ok)
        recon["l1"].append((rec - x).abs().mean(dim=(1, 2, 3)) / 2)
        recon["psnr"].append(psnr(rec, x))
        recon["ms_ssim"].append(ms_ssim(rec, x, reduction="none"))
        batches |= {"reconstruction": rec, "target_face": images[order[start : start + batch_size]]}
        emb = {key: identity.embed([tensor_to_image(i) for i in batch]) for key, batch in batches.items()}
        for key, values in cosines.items():
            values.append(identity.cosine(emb["output_equals_input"], emb[key]))
            verified[key].append(identity.verify(emb["output_equals_input"], emb[key]))
        n = max(0, min(len(x), interp_limit - start))
        if n:
            first = latent.map(lambda t: t[:n])
            steps = [model.render(first, interpolate_aus(u[:n], u_t[:n], alpha)).map(Tensor.cpu) for alpha in ALPHAS]
            frames = {
                "eggan": [s.face for s in steps],
                "eggan_detail": [keep_photo_detail(x[:n], s, rec[:n]) for s in steps],
            }
            for key, batches_per_alpha in frames.items():
                curves[key].append(np.stack([measure_aus(b)[0] for b in batches_per_alpha], axis=1))

    targets_np, aus_np = targets.numpy(), aus.numpy()
    n_interp = sum(len(c) for c in curves["eggan"])
    table1 = {}
    for key in outputs:
        values, ok = np.concatenate(measured[key]), np.concatenate(found[key])
        table1[key] = au_table(targets_np[ok], values[ok])
    return {
        "checkpoint": model.record["name"],
        "steps": model.record["steps"],
        "resolution": model.config.resolution,
        "sources": len(images),
        "faces_found": {key: round(float(np.concatenate(found[key]).mean()), 4) for key in outputs},
        "table1": table1,
        "paper_anchor": PAPER_ANCHOR,
        "identity_cosine": {key: round(float(np.concatenate(v).mean()), 4) for key, v in cosines.items()},
        "identity_verified": {key: round(float(np.concatenate(v).mean()), 4) for key, v in verified.items()},
        "reconstruction": {key: round(float(torch.cat(v).mean()), 4) for key, v in recon.items()},
        "chroma_change_outside_features": {key: round(float(np.concatenate(v).mean()), 3) for key, v in chroma.items()},
        "chroma_ripple_added_inside_features": {
            key: round(float(np.concatenate(v).mean()), 3) for key, v in ripple.items()
        },
        "frechet": realism({key: np.concatenate(v) for key, v in features.items()}),
        "interpolation": {
            key: interpolation_scores(aus_np[:n_interp], targets_np[:n_interp], np.concatenate(c))
            for key, c in curves.items()
        },
    }


def _cell(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def markdown(result: dict[str, Any]) -> str:
    """Table 1 layout (AUs as columns, MSE and PCC rows for EGGAN and the baseline), then the rest."""
    table = result["table1"]
    header = "| Metric | Method | " + " | ".join(str(n) for n in AU_NUMBERS) + " | Avg |"
    lines = [header, "| --- | --- |" + " ---: |" * (len(AU_NUMBERS) + 1)]
    for metric in ("mse", "pcc"):
        methods = {**{key: f"EGGAN, {mode}" for key, mode in MODES.items()}, "output_equals_input": "output = input"}
        for method, label in methods.items():
            row = table[method]
            cells = [_cell(row[metric][str(n)]) for n in AU_NUMBERS]
            average = _cell(row[f"{metric}_avg"])
            lines.append(f"| {metric.upper()} | {label} | " + " | ".join(cells) + f" | **{average}** |")
    cos, ver, rec = (result[k] for k in ("identity_cosine", "identity_verified", "reconstruction"))
    compared = {key: f"source vs edit, {mode}" for key, mode in MODES.items()}
    compared |= {"reconstruction": "source vs reconstruction", "target_face": "source vs target face (other people)"}
    lines += ["", "| Identity (dlib) | cosine | verified (d < 0.6) |", "| --- | ---: | ---: |"]
    lines += [f"| {label} | {cos[key]:.3f} | {ver[key]:.1%} |" for key, label in compared.items()]
    found = ", ".join(f"{share:.1%} ({key})" for key, share in result["faces_found"].items())
    lines += [
        "",
        f"Reconstruction: L1 {rec['l1']:.4f}, PSNR {rec['psnr']:.2f} dB, MS-SSIM {rec['ms_ssim']:.3f}. "
        f"Faces found by the annotator: {found}.",
        "",
        "| Mode | chroma change outside the facial features (/255) | chroma ripple added inside them (/255) "
        "| Fréchet distance to real val faces |",
        "| --- | ---: | ---: | ---: |",
        *(f"| EGGAN, {mode} | {result['chroma_change_outside_features'][key]:.2f} "
          f"| {result['chroma_ripple_added_inside_features'][key]:.2f} | {result['frechet'][key]:.2f} |"
          for key, mode in MODES.items()),
        f"| real vs real (floor) | | | {result['frechet']['real_floor']:.2f} |",
        "",
        f"| Interpolation (Eq. 8) | source-AU pairs changing by >= {MIN_CHANGE:g} | monotonicity (mean Spearman rho) "
        "| steps toward the target | mean abs(AU - target) at alpha " + ", ".join(f"{a:g}" for a in ALPHAS) + " |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for key, mode in MODES.items():
        interp = result["interpolation"][key]
        distances = ", ".join(_cell(d, 2) for d in interp["mean_abs_distance_to_target"])
        lines.append(
            f"| EGGAN, {mode} | {interp['changed_au_pairs']} | {_cell(interp['monotonicity_spearman'], 3)} "
            f"| {_cell(interp['steps_toward_target'], 3)} | {distances} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    model = AUEditor(args.checkpoint, device=args.device)
    faces = val_faces(args.data, model.config.resolution, args.limit, args.annotations)
    judge = load_judge(args.judge)  # on the CPU, where the faces and edits are
    result = evaluate(model, IdentityModel(), judge, faces, args.seed, args.batch_size, args.interp_limit)
    print(markdown(result))
    return {
        "split": "val",
        "au_annotator": "MediaPipe Face Landmarker blendshapes -> facegan.faces.aus (0-5)",
        "identity_model": MODEL_DESCRIPTION,
        **result,
    }
