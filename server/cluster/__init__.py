"""Cluster mode on one machine (`posecast cluster`, README "Scale out"): supervisor.py starts
Redis, PostgreSQL, N `posecast serve` workers and nginx (services.py; the shipped configuration is
nginx.conf.template) and restarts workers that die. The workers themselves need nothing from here:
POSECAST_MESSAGE_QUEUE and DATABASE_URL join them (server/sockets.py, server/instances.py).

Nothing is imported at package import: `posecast serve` must monkey-patch before Flask loads.
"""
