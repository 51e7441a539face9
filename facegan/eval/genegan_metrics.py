"""``python -m facegan.eval genegan``: does GeneGAN move the attribute, and only the attribute?

Val pairs (Au with the attribute, B-epsilon without, the i-th of each in list order) go through the
training diagram (Eq. 2), with BatchNorm in inference mode. The independent judge (never the GAN's
discriminator) and dlib's face descriptor then measure:

- transplant success: the judge says Bu has the attribute; removal success: it says A-epsilon lacks it
  (next to the judge's own rates on the parents, the ceiling these can be read against);
- the baselines each must beat: the judge's verdict on each parent decoded with its own object (B with
  u_B "has" the attribute; A with u_A "lacks" it): a decoder that draws the attribute whatever the object
  scores this much for free;
- swap success, scored apart from removal: the app's swap gives A the object of B (not the null object
  epsilon), and the judge says whether A then lacks the attribute;
- realism: Fréchet distance of the first half's transplants (Bu) and removals (A-epsilon) to the second
  half's real val faces (one parent per pair, alternately with and without the attribute) in the
  judge's face-network features, next to the first half's real faces (the floor);
- background preservation: identity cosine and verification (distance < 0.6) of B vs Bu and A vs
  A-epsilon, next to the cosine of the two different people A vs B; transplant success and B vs Bu
  are also split by B's sex (CelebA's Male label), and the judge says how often a child keeps its
  parent's sex: in CelebA most mustaches are on men and most blond hair on women, and an object
  feature that learned the sex along with the attribute changes the person of every parent of the
  other sex (while a judge that learned the same correlation reads the change as the attribute);
- reconstruction L1 of Au' and B-epsilon' and the parallelogram residual |Au + Be - Ae - Bu| (Eq. 5),
  all in [0, 1] pixel units;
- the attribute-subspace claim: decoding B with alpha * u for alpha in [0, 1.5], the judge's mean
  probability should rise with alpha: the fraction of consecutive alpha steps that raise it, and
  Spearman's rho between alpha and the mean probability (and per pair, averaged).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import Tensor
from tqdm import tqdm

from facegan.eval.realism import realism
from facegan.eval.identity import MODEL_DESCRIPTION, IdentityModel
from facegan.models.judge import AttributeJudge, load_judge
from facegan.pipelines import GeneGAN, genegan_attributes, tensor_to_image
from facegan.data.attribute_pairs import val_pair_labels, val_pairs

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)


def add_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("genegan")
    group.add_argument("--attributes", nargs="+", help="default: every attribute with a shipped checkpoint")
    group.add_argument("--limit", type=int, default=300, help="val pairs per attribute (default 300)")
    group.add_argument("--batch-size", type=int, default=50)
    group.add_argument(
        "--judge", help="weights of the attribute judge that scores the edits (default: checkpoints/attr_judge)"
    )


def to_uint8(batch: Tensor) -> list[np.ndarray]:
    return [tensor_to_image(image) for image in batch]


def monotonicity(alphas: tuple[float, ...], curves: np.ndarray) -> dict[str, Any]:
    """How monotonically the probability rises with alpha; ``curves`` is [pairs, len(alphas)]."""
    mean = curves.mean(axis=0)
    per_pair = [spearmanr(alphas, curve).statistic for curve in curves if np.ptp(curve) > 0]
    return {
        "alphas": list(alphas),
        "mean_probability": [round(float(p), 4) for p in mean],
        "increasing_steps": round(float((np.diff(mean) > 0).mean()), 4),
        "spearman_mean_curve": round(float(spearmanr(alphas, mean).statistic), 4),
        "spearman_per_pair_mean": round(float(np.mean(per_pair)), 4) if per_pair else float("nan"),
    }


@torch.inference_mode()
def evaluate(
    model: GeneGAN, judge: AttributeJudge, identity: IdentityModel, au: Tensor, be: Tensor, b_is_male: Tensor,
    batch_size: int,
) -> dict[str, Any]:
    """Figures for one attribute's checkpoint over val pairs ``(au, be)``; ``b_is_male``: B's CelebA sex label."""
    attribute = model.attribute
    keys = (
        "parent_a", "parent_b", "bu", "ae", "swap_a", "own_b", "own_a", "rec_au", "rec_be", "parallelogram",
        "sex_kept_bu", "sex_kept_ae",
    )
    values: dict[str, list[Tensor]] = {key: [] for key in keys}
    cosines: dict[str, list[np.ndarray]] = {key: [] for key in ("b_bu", "a_ae", "a_b")}
    verified: dict[str, list[np.ndarray]] = {key: [] for key in ("b_bu", "a_ae")}
    curves = []
    features: dict[str, list[np.ndarray]] = {"real": [], "transplant": [], "removal": []}
    generator = model.generator

    def probability(images: Tensor) -> Tensor:
        return judge.probabilities(images, [attribute])[:, 0]

    for start in tqdm(range(0, len(au), batch_size), desc=f"genegan {attribute}", unit="batch"):
        a, b = au[start : start + batch_size].to(model.device), be[start : start + batch_size].to(model.device)
        kids = generator(a, b)
        # One judge pass per image set reads both the attribute and the sex.
        says = {key: judge.probabilities(x, [attribute, "Male"]) > 0.5 for key, x in
                (("a", a), ("b", b), ("bu", kids.bu), ("ae", kids.ae))}
        values["parent_a"].append(says["a"][:, 0])
        values["parent_b"].append(~says["b"][:, 0])
        values["bu"].append(says["bu"][:, 0])
        values["ae"].append(~says["ae"][:, 0])
        background_a, background_b = generator.encode(a).background, generator.encode(b).background
        values["swap_a"].append(probability(generator.decode(background_a, kids.epsilon, a)) <= 0.5)
        values["own_b"].append(probability(generator.decode(background_b, kids.epsilon, b)) > 0.5)
        values["own_a"].append(probability(kids.au) <= 0.5)  # Au' is A decoded with its own object
        values["sex_kept_bu"].append(says["b"][:, 1] == says["bu"][:, 1])
        values["sex_kept_ae"].append(says["a"][:, 1] == says["ae"][:, 1])
        with_or_without = ((torch.arange(len(a)) + start) % 2 == 0).view(-1, 1, 1, 1).to(a.device)
        real = torch.where(with_or_without, a, b)  # one real face per pair, half of them with the attribute
        for key, images in (("real", real), ("transplant", kids.bu), ("removal", kids.ae)):
            features[key].append(judge.embed(images).cpu().numpy())
        values["rec_au"].append((kids.au - a).abs().mean(dim=(1, 2, 3)) / 2)
        values["rec_be"].append((kids.be - b).abs().mean(dim=(1, 2, 3)) / 2)
        values["parallelogram"].append((a + b - kids.ae - kids.bu).abs().mean(dim=(1, 2, 3)) / 2)
        emb = {key: identity.embed(to_uint8(x)) for key, x in (("a", a), ("b", b), ("bu", kids.bu), ("ae", kids.ae))}
        for key, (x, y) in {"b_bu": ("b", "bu"), "a_ae": ("a", "ae"), "a_b": ("a", "b")}.items():
            cosines[key].append(identity.cosine(emb[x], emb[y]))
            if key in verified:
                verified[key].append(identity.verify(emb[x], emb[y]))
        scaled = [generator.decode(background_b, alpha * kids.u, b) for alpha in ALPHAS]
        curves.append(torch.stack([probability(child) for child in scaled], 1))

    def mean(key: str) -> float:
        return round(float(torch.cat(values[key]).float().mean()), 4)

    by_b = {
        "transplant_success": torch.cat(values["bu"]).numpy(),
        "identity_verified_b_bu": np.concatenate(verified["b_bu"]),
    }
    men = b_is_male.numpy() > 0
    sexes = (("men", men), ("women", ~men))

    def share(hits: np.ndarray) -> float | None:
        return round(float(hits.mean()), 4) if hits.size else None

    return {
        "checkpoint": model.record["name"],
        "attribute": attribute,
        "steps": model.record["steps"],
        "pairs": len(au),
        "transplant_success": mean("bu"),
        "transplant_baseline": mean("own_b"),
        "removal_success": mean("ae"),
        "removal_baseline": mean("own_a"),
        "swap_success_a": mean("swap_a"),
        "judge_on_parents": {"with_says_yes": mean("parent_a"), "without_says_no": mean("parent_b")},
        "identity_cosine": {key: round(float(np.concatenate(v).mean()), 4) for key, v in cosines.items()},
        "identity_verified": {key: round(float(np.concatenate(v).mean()), 4) for key, v in verified.items()},
        "by_sex_of_b": {
            "men_share": share(men),
            **{sex: {key: share(hits[chosen]) for key, hits in by_b.items()} for sex, chosen in sexes},
        },
        "sex_kept": {"b_bu": mean("sex_kept_bu"), "a_ae": mean("sex_kept_ae")},
        "reconstruction_l1": {"au": mean("rec_au"), "be": mean("rec_be")},
        "parallelogram_l1": mean("parallelogram"),
        "subspace": monotonicity(ALPHAS, torch.cat(curves).numpy()),
        "frechet": realism({key: np.concatenate(v) for key, v in features.items()}),
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    """One row per attribute: transfer, preservation and reconstruction; then the alpha curves."""
    lines = [
        (
            "| Attribute | steps | pairs | transplant ok (baseline) | removal ok (baseline) | swap: A lacks it | "
            "judge on parents (with / without) | verified B-Bu | verified A-Ae | "
            "B men / women: transplant ok, verified | sex kept B-Bu / A-Ae | id cos B-Bu / A-Ae / A-B | "
            "FD transplant / removal (floor) | rec. L1 Au' / Be' | parallelogram L1 |"
        ),
        "| --- |" + " ---: |" * 14,
    ]
    for r in rows:
        cos, ver, rec, fd = r["identity_cosine"], r["identity_verified"], r["reconstruction_l1"], r["frechet"]
        parents, sex = r["judge_on_parents"], r["sex_kept"]
        by_sex = " / ".join(
            "–" if part["transplant_success"] is None
            else f"{part['transplant_success']:.1%}, {part['identity_verified_b_bu']:.1%}"
            for part in (r["by_sex_of_b"]["men"], r["by_sex_of_b"]["women"])
        )
        lines.append(
            f"| {r['attribute']} | {r['steps']} | {r['pairs']} | "
            f"{r['transplant_success']:.1%} ({r['transplant_baseline']:.1%}) | "
            f"{r['removal_success']:.1%} ({r['removal_baseline']:.1%}) | {r['swap_success_a']:.1%} | "
            f"{parents['with_says_yes']:.1%} / {parents['without_says_no']:.1%} | "
            f"{ver['b_bu']:.1%} | {ver['a_ae']:.1%} | {by_sex} | {sex['b_bu']:.1%} / {sex['a_ae']:.1%} | "
            f"{cos['b_bu']:.3f} / {cos['a_ae']:.3f} / {cos['a_b']:.3f} | "
            f"{fd['transplant']:.2f} / {fd['removal']:.2f} ({fd['real_floor']:.2f}) | "
            f"{rec['au']:.4f} / {rec['be']:.4f} | {r['parallelogram_l1']:.4f} |"
        )
    alphas = rows[0]["subspace"]["alphas"]
    lines += [
        "",
        "| Attribute | " + " | ".join(f"P(attr), α={a:g}" for a in alphas)
        + " | increasing steps | Spearman ρ (mean curve) | Spearman ρ (per pair) |",
        "| --- |" + " ---: |" * (len(alphas) + 3),
    ]
    for r in rows:
        s = r["subspace"]
        lines.append(
            f"| {r['attribute']} | " + " | ".join(f"{p:.3f}" for p in s["mean_probability"])
            + f" | {s['increasing_steps']:.0%} | {s['spearman_mean_curve']:.3f} | {s['spearman_per_pair_mean']:.3f} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    attributes = args.attributes or genegan_attributes()
    if not attributes:
        raise SystemExit("no genegan_*.safetensors checkpoint found; train one with `python -m facegan.train genegan`")
    judge = load_judge(args.judge, device=args.device)
    identity = IdentityModel()
    rows = []
    for attribute in attributes:
        model = GeneGAN(attribute, device=args.device)
        au, be = val_pairs(args.data, attribute, model.config.resolution, args.limit)
        _, b_is_male = val_pair_labels(args.data, attribute, "Male", args.limit)
        rows.append(evaluate(model, judge, identity, au, be, b_is_male, args.batch_size))
    print(markdown(rows))
    return {
        "split": "val",
        "judge": args.judge or "checkpoints/attr_judge",
        "identity_model": MODEL_DESCRIPTION,
        "rows": rows,
    }
