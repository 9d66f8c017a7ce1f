"""A kinematic checkpoint moved to a newer feature version that extends its own (version 3 is version 2 plus the
image-plane pose, `processing_macm/kinematic.py`), so that training goes on from its weights instead of from scratch.
"""

import torch

from dataset_scripts.schema import row_to_track
from processing_macm.kinematic import KINEMATIC_FEATURE_SIZES, compute_feature_stats, kinematic_features

# version -> the version whose features are its first columns, unchanged
EXTENDS = {3: 2}


def upgrade_kinematic_features(model, processor, version: int, rows) -> None:
    """From now on `model` and `processor` read kinematic features of `version`, in place.

    The old version's features stay the first columns, so the motion encoder's input projection keeps its weights
    for them and starts at zero for the new ones: the upgraded model gives the outputs it gave until it is trained.
    The new columns are normalised by their mean and spread over the tracks of HMI `rows` (their `motion`; the
    train split's) that have a person; the old columns keep the checkpoint's normalisation.
    """
    config = model.config
    old = config.kinematic_feature_version
    if config.motion_representation != "kinematic":
        raise ValueError("Only a kinematic model has feature versions; this one's motion pathway is 'overlay'.")
    if EXTENDS.get(version) != old:
        raise ValueError(
            f"Cannot move a model from kinematic features version {old} to {version}: only "
            f"{', '.join(f'{b} -> {a}' for a, b in EXTENDS.items())} keep the old features as the first columns. "
            "Train a new model for other versions."
        )
    if processor.motion_feature_mean is None:
        raise ValueError("The processor has no feature normalisation to extend; train a new model instead.")
    tracks = [row_to_track(row["motion"]) for row in rows if row["motion"] is not None]
    features = [kinematic_features(t, processor.motion_fps, version=version) for t in tracks if t.has_person]
    if not features:
        raise ValueError("Upgrading the kinematic features needs tracks with a person to normalise the new columns.")
    mean, std = compute_feature_stats([f for f, _ in features], [m for _, m in features])
    width = KINEMATIC_FEATURE_SIZES[old]
    processor.motion_feature_mean = list(processor.motion_feature_mean) + mean[width:].tolist()
    processor.motion_feature_std = list(processor.motion_feature_std) + std[width:].tolist()

    old_proj = model.model.motion_encoder.input_proj  # Linear(width -> hidden)
    new_proj = torch.nn.Linear(KINEMATIC_FEATURE_SIZES[version], old_proj.out_features)
    new_proj.to(device=old_proj.weight.device, dtype=old_proj.weight.dtype)
    with torch.no_grad():
        new_proj.weight.zero_()
        new_proj.weight[:, :width] = old_proj.weight
        new_proj.bias.copy_(old_proj.bias)
    model.model.motion_encoder.input_proj = new_proj
    for target in (config, processor):
        target.kinematic_feature_version = version
        target.motion_feature_size = KINEMATIC_FEATURE_SIZES[version]
    if config.motion_feature_mirror is not None:
        config.motion_feature_mirror = processor.motion_feature_mirror()  # of the new features and normalisation


__all__ = ["EXTENDS", "upgrade_kinematic_features"]
