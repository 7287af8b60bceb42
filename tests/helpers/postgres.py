"""A throwaway PostgreSQL server for tests: initdb into a temporary folder, listen on a free
loopback port, trust auth, fsync off. Debian's postgresql package provides the binaries
(tools/system-deps.sh installs it); as root, the server runs as the `postgres` user."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from .server import free_port


def binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


class Postgres:
    def __init__(self):
        self.bindir = binaries()
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="posecast-pg-")
        self.data = os.path.join(self.root, "data")
        self.url = f"postgresql+psycopg://posecast@127.0.0.1:{self.port}/postgres"
        self._as = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}")

    def start(self) -> "Postgres":
        self._run(f"{self.bindir}/initdb", "-D", self.data, "-U", "posecast", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-o", opts, "-l", os.path.join(self.root, "log"),
                  "-w", "-t", "60", "start")
        return self

    def fresh_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={self.port} user=posecast dbname=postgres",
                                     autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return f"postgresql+psycopg://posecast@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
