"""Lowering, reference executor and TFLite writer (installed as ``lpn_tf.export``)."""
