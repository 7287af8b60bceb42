"""The edge node: pose and the server's active classifier on a box next to a camera, no browser,
streaming labels to a posecast server's /pose namespace with a durable outbox (`posecast edge`).
Imports core/ and runtime/, never server/ or training/ (pyproject.toml's import contracts)."""
