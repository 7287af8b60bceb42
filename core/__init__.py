"""What the server, the training pipeline (and later the edge node) share, written once.

Pure Python and numpy: importing anything here loads neither Flask nor TensorFlow. Tables shared
with the pages are JSON files in web/ (contract.json, pose-tables.json), read here and by the
pages' modules alike.
"""
