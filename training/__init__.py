"""posecast training pipeline: data -> features -> model -> train -> evaluate -> export.

Never imported by the server process (TensorFlow must not load under eventlet); the server runs
training in a subprocess.
"""
import os

# Keras 3 exports do not load in TF.js 4.22; tf_keras (Keras 2) exports do.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# tensorflowjs imports decision forests, whose welcome banner needs IPython when stdout is not a
# terminal (a subprocess, a test run): turn the banner off.
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
