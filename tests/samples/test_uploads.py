"""Zip uploads are checked before anything is extracted."""
import io
import zipfile

import pytest

from core.checks import Invalid
from server.samples import uploads

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4


def make_zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in entries.items():
            if isinstance(data, zipfile.ZipInfo):
                z.writestr(data, b"target")
            else:
                z.writestr(name, data)
    return path


def test_class_folders_are_extracted(tmp_path):
    z = make_zip(tmp_path / "ok.zip", {"set/tree/a.jpg": JPEG, "set/tree/b.JPG": JPEG, "set/dog/c.png": JPEG,
                                       "set/notes.txt": b"ignored", "set/dog/.hidden.jpg": JPEG})
    out = uploads.extract(z, tmp_path / "work")
    assert sorted(str(p.relative_to(out)) for p in out.glob("*/*")) == ["dog/00002-c.png", "tree/00000-a.jpg",
                                                                          "tree/00001-b.JPG"]


def link_entry():
    info = zipfile.ZipInfo("tree/link.jpg")
    info.external_attr = (0o120777 << 16)
    return info


@pytest.mark.parametrize("entries, error", [
    ({"../evil/a.jpg": JPEG}, "unsafe path"),
    ({"tree/../../a.jpg": JPEG}, "unsafe path"),
    ({"/etc/a.jpg": JPEG}, "unsafe path"),
    ({"tree/link.jpg": None}, "links are not allowed"),
    ({"a.jpg": JPEG}, "not inside a class folder"),
    ({"readme.txt": b"x"}, "no images"),
])
def test_unsafe_or_unusable_zips_are_refused(tmp_path, entries, error):
    entries = {k: (link_entry() if v is None else v) for k, v in entries.items()}
    z = make_zip(tmp_path / "bad.zip", entries)
    with pytest.raises(Invalid, match=error):
        uploads.extract(z, tmp_path / "work")
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


def test_zip_bomb_is_refused_before_extraction(tmp_path):
    z = make_zip(tmp_path / "bomb.zip", {"tree/a.jpg": b"\0" * (20 * 1024 * 1024)}, zipfile.ZIP_DEFLATED)
    assert z.stat().st_size < 100 * 1024
    with pytest.raises(Invalid, match="zip bomb"):
        uploads.extract(z, tmp_path / "work")


def test_not_a_zip(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"PK not really")
    with pytest.raises(Invalid, match="not a zip"):
        uploads.extract(tmp_path / "x.zip", tmp_path / "work")


def test_upload_endpoint_refuses_bad_zips_and_stores_nothing(client, app, tmp_path):
    ds = client.post("/api/datasets", json={"name": "up"}).get_json()
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../escape/a.jpg", JPEG)
    r = client.post(f"/api/datasets/{ds['id']}/import", data={"file": (io.BytesIO(bad.getvalue()), "x.zip")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "unsafe path" in r.get_json()["error"]
    r = client.post(f"/api/datasets/{ds['id']}/import", data={}, content_type="multipart/form-data")
    assert r.status_code == 400 and "'file'" in r.get_json()["error"]
    app.config["UPLOAD_MAX_BYTES"] = 1000
    r = client.post(f"/api/datasets/{ds['id']}/import", data={"file": (io.BytesIO(b"x" * 5000), "x.zip")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "limited" in r.get_json()["error"]
    assert client.get(f"/api/datasets/{ds['id']}").get_json()["counts"] == {}
    import os
    uploads_dir = os.path.join(app.instance_path, "uploads")
    assert not os.path.exists(uploads_dir) or os.listdir(uploads_dir) == []
