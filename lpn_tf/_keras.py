"""The one place lpn imports Keras from.

lpn builds on Keras 2 (``tf_keras``), the API tensorflow-model-optimization needs. Importing
``tf_keras`` explicitly makes lpn independent of the ``TF_USE_LEGACY_KERAS`` environment variable:
``tf.keras`` may be Keras 3 in the user's process, lpn's layers are always tf_keras layers.
"""

import tensorflow as tf
import tf_keras as keras

__all__ = ["keras", "tf"]
