"""Typed errors whose message is safe to show a user as is.

Everything the UI or API reports to a person derives from ``UserError``; any other exception is a bug.
"""


class UserError(Exception):
    """A problem with the user's input or setup, explained in plain words."""


class InvalidImageError(UserError):
    """The upload is not an image we can read."""


class NoFaceError(UserError):
    """No face was found in the image."""


class FaceIndexError(UserError):
    """The requested face index does not exist in the image."""


class ModelFileMissingError(UserError):
    """A model file (detector weights, checkpoint) is not where we looked and could not be fetched."""


class CheckpointMissingError(ModelFileMissingError):
    """A generator checkpoint has not been trained or shipped yet."""


class InvalidAudioError(UserError):
    """The sound is empty, silent, unreadable or too long to use."""


class InvalidNumberError(UserError, ValueError):
    """A number from the UI or the API is missing, not finite, out of range or miscounted."""
