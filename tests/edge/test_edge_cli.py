"""`posecast edge` refuses bad arguments, bad sources and an unreachable server with a clear
message and a non-zero exit, before or without streaming anything."""
import subprocess
import sys

from tests.helpers.paths import ROOT
from tests.helpers.server import free_port


def edge(*args, env=None, timeout=120):
    import os

    return subprocess.run([sys.executable, "-m", "server", "edge", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_bad_arguments_exit_2_with_a_reason(tmp_path):
    base = ["--source", "0", "--server", "http://127.0.0.1:1", "--state-dir", str(tmp_path)]
    r = edge(*base, "--name", "no/slash")
    assert r.returncode == 2 and "--name" in r.stderr
    r = edge("--source", "0", "--server", "ftp://x", "--name", "n1", "--state-dir", str(tmp_path))
    assert r.returncode == 2 and "--server" in r.stderr
    r = edge(*base, "--name", "n1", "--model", "yoga5")
    assert r.returncode == 2 and "NAME/VERSION" in r.stderr
    r = edge(*base, "--name", "n1", env={"POSECAST_DEVICE_TOKEN": "short"})
    assert r.returncode == 2 and "token" in r.stderr
    r = edge(*base, "--name", "n1", "--backbone", "posenet", "--precision", "bf16")
    assert r.returncode == 2 and "PoseNet" in r.stderr
    r = edge(*base, "--name", "n1", "--executor", "tensorflow", "--precision", "bf16")
    assert r.returncode == 2 and "--precision applies to the openvino executor" in r.stderr


def test_a_missing_file_or_camera_exits_2(tmp_path, edge_ready):
    r = edge("--source", str(tmp_path / "none.mp4"), "--server", "http://127.0.0.1:1", "--name", "n1",
             "--state-dir", str(tmp_path))
    assert r.returncode == 2 and "no such video file" in r.stdout
    (tmp_path / "not-a-video.mp4").write_bytes(b"\0" * 1000)
    r = edge("--source", str(tmp_path / "not-a-video.mp4"), "--server", "http://127.0.0.1:1", "--name", "n1",
             "--state-dir", str(tmp_path))
    assert r.returncode == 2 and "not-a-video.mp4" in r.stdout


def test_an_unreachable_server_retries_then_exits_4(tmp_path, video):
    r = edge("--source", str(video), "--server", f"http://127.0.0.1:{free_port()}", "--name", "n1",
             "--state-dir", str(tmp_path), "--connect-timeout", "2")
    assert r.returncode == 4, r.stdout + r.stderr
    assert "retrying in" in r.stdout and "cannot reach" in r.stdout


def test_fetch_weights_copies_the_servers_checked_files_and_ir(tmp_path, edge_ready):
    from edge import weights
    from tests.helpers.server import LiveServer

    server = LiveServer(tmp_path).start()
    try:
        said = []
        weights.fetch(server.url, "movenet-lightning", log=said.append, dest=tmp_path / "pose")
        assets = ROOT / "assets" / "pose"
        for name in ("movenet-lightning.json", "movenet-lightning.bin"):
            assert (tmp_path / "pose" / name).read_bytes() == (assets / name).read_bytes()
        ir = sorted(p.name for p in (tmp_path / "pose" / ".openvino").iterdir())
        if ir:  # the server converted it once (tests/runtime or any OpenVINO run did)
            assert ir == sorted(p.name for p in assets.joinpath(".openvino").glob("movenet-lightning-*"))
        else:
            assert "prepare-weights" in said[-1]
        # BlazePose is two networks: the person detector comes with the landmarks
        weights.fetch(server.url, "blazepose-lite", log=said.append, dest=tmp_path / "pose")
        for name in ("blazepose-detector.json", "blazepose-detector.bin", "blazepose-lite.json", "blazepose-lite.bin"):
            assert (tmp_path / "pose" / name).read_bytes() == (assets / name).read_bytes()
        r = edge("--fetch-weights", "--server", f"http://127.0.0.1:{free_port()}", "--backbone", "posenet")
        assert r.returncode == 2 and "posenet.json" in r.stderr
    finally:
        server.stop()
