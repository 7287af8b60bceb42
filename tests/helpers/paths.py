"""Where the project and the shared real data live."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("POSECAST_SHARED_DATA", ROOT.parent / "shared" / "data"))
VENV_BIN = ROOT / ".venv" / "bin"


def shared(*parts: str) -> Path:
    return SHARED_DATA.joinpath(*parts)
