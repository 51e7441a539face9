"""From any photo to a model-ready face crop and back: detection, 68 landmarks, alignment to the
CelebA framing, landmark heatmaps, AU estimates and paste-back."""

from facegan.faces.align import (
    AlignedFace,
    add_change_back,
    align_face,
    face_region_mask,
    feathered_square_mask,
    paste_back,
    template_points,
)
from facegan.faces.aus import ACTION_UNITS, AU_NUMBERS, estimate_aus
from facegan.faces.heatmaps import heatmap_to_image, landmark_heatmaps
from facegan.faces.image_io import MAX_SIDE, load_image
from facegan.faces.landmarker import Face, detect_face, detect_faces
from facegan.faces.pipeline import PreparedFace, prepare_all_faces, prepare_face, prepare_faces_numbered_as

__all__ = [
    "ACTION_UNITS",
    "AU_NUMBERS",
    "AlignedFace",
    "Face",
    "add_change_back",
    "MAX_SIDE",
    "PreparedFace",
    "align_face",
    "detect_face",
    "detect_faces",
    "estimate_aus",
    "face_region_mask",
    "feathered_square_mask",
    "heatmap_to_image",
    "landmark_heatmaps",
    "load_image",
    "paste_back",
    "prepare_all_faces",
    "prepare_faces_numbered_as",
    "prepare_face",
    "template_points",
]
