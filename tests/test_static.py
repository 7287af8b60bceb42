import json

import pytest

from tests.helpers.paths import ROOT

ASSETS_BUILT = (ROOT / "assets" / "pose" / "posenet.json").exists()
needs_assets = pytest.mark.skipif(not ASSETS_BUILT, reason="assets/ not built (make test builds it)")


def test_live_page_is_served_and_revalidated(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert b'id="stage"' in r.data
    assert r.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path, mime", [
    ("/js/live/index.js", "text/javascript"),
    ("/css/app.css", "text/css"),
    ("/favicon.svg", "image/svg+xml"),
])
def test_web_files_have_their_mime_type(client, path, mime):
    r = client.get(path)
    assert r.status_code == 200
    assert r.mimetype == mime


@needs_assets
@pytest.mark.parametrize("path, mime", [
    ("/assets/lib/tfjs-backend-wasm-simd.wasm", "application/wasm"),
    ("/assets/lib/ml5.min.js", "text/javascript"),
    ("/assets/pose/movenet-lightning.json", "application/json"),
    ("/assets/pose/movenet-lightning.bin", "application/octet-stream"),
])
def test_assets_are_cacheable_with_mime_type(client, app, path, mime):
    r = client.get(path)
    assert r.status_code == 200
    assert r.mimetype == mime
    assert r.headers["Cache-Control"] == f"public, max-age={app.config['ASSET_MAX_AGE']}"
    again = client.get(path, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


@needs_assets
def test_posenet_weights_are_adapted_for_posenet_2_2_2(client):
    model = client.get("/assets/pose/posenet.json").get_json()
    (spec,) = model["signature"]["inputs"].values()
    assert [d["size"] for d in spec["tensorShape"]["dim"]] == ["1", "-1", "-1", "3"]
    order = [name.split("/")[1].rsplit("_", 1)[0] for name in model["signature"]["outputs"]]
    assert order == ["offset", "heatmap", "displacement_fwd", "displacement_bwd"]


def test_models_folder_is_served_without_caching(tmp_path):
    from server import create_app

    (tmp_path / "models" / "demo" / "1").mkdir(parents=True)
    (tmp_path / "models" / "demo" / "1" / "model.json").write_text(json.dumps({"format": "layers-model"}))
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "ASYNC_MODE": "threading",
                      "MODELS_DIR": str(tmp_path / "models")})
    r = app.test_client().get("/models/demo/1/model.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path", [
    "/nope.html",
    "/assets/lib/missing.js",
    "/models/none/model.json",
    "/assets/../server/app.py",
    "/assets/%2e%2e/server/app.py",
    "/..%2fpyproject.toml",
])
def test_missing_and_escaping_paths_are_404(client, path):
    assert client.get(path).status_code == 404


def test_security_headers_keep_the_page_offline(client):
    headers = client.get("/").headers
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_libraries_are_sent_precompressed_to_browsers_that_accept_it(tmp_path):
    """tools/assets.py writes .br and .gz copies; the server picks the best the request accepts."""
    import gzip

    import brotli

    from server import create_app
    from tools.assets import precompress

    lib = tmp_path / "assets" / "lib"
    lib.mkdir(parents=True)
    original = b"export const answer = 42;\n" * 4000
    (lib / "big.js").write_bytes(original)
    (lib / "tiny.js").write_bytes(b"x")  # compression would not pay: served as it is
    assert precompress(tmp_path / "assets") == 2
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "ASYNC_MODE": "threading",
                      "ASSETS_DIR": str(tmp_path / "assets")})
    client = app.test_client()

    br = client.get("/assets/lib/big.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br" and br.mimetype == "text/javascript"
    assert "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.data) == original
    gz = client.get("/assets/lib/big.js", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == original
    assert gz.headers["ETag"] != br.headers["ETag"]
    assert client.get("/assets/lib/big.js", headers={"If-None-Match": br.headers["ETag"],
                                                      "Accept-Encoding": "br"}).status_code == 304
    plain = client.get("/assets/lib/big.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.data == original
    refused = client.get("/assets/lib/big.js", headers={"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
    tiny = client.get("/assets/lib/tiny.js", headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in tiny.headers and tiny.data == b"x"
