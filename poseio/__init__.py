"""Pose results in and out, below the server (never imports it): image decoding with limits
(images.py), the exported classifiers in numpy (classifier.py), the file formats the field reads
(formats.py: OpenPose JSON, COCO keypoint results, CSV, JSONL), skeleton drawing (draw.py), video
frames (video.py) and the inference worker process the API feeds (worker.py, framing.py).
`posecast poses` and the server's /api/v1 downloads use the same writers."""
