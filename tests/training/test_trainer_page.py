"""A trainer records two classes from the fake webcam (two different videos) on the trainer page
(BlazePose: each sample keeps its world landmarks), trains a `world` model, and an open live page
switches to the new model and shows its labels."""
import contextlib
import shutil

import pytest

from core.features import TRAIN_BACKBONE
from core.tables import BLAZEPOSE33
from tests.helpers import browser as hb
from tests.helpers.auth import ADMIN
from tests.helpers.paths import ROOT
from tests.helpers.server import LiveServer


@pytest.fixture(scope="module")
def server(browser_ready, tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    shutil.copytree(ROOT / "tfjs_models" / "yoga5" / "1", models / "yoga5" / "1")
    srv = LiveServer(tmp_path_factory.mktemp("srv"), env={"POSECAST_MODELS_DIR": str(models)}).start()
    yield srv
    srv.stop()


def stored_world(server, sample_id):
    """A sample's world landmarks as the server stored them."""
    import json
    import sqlite3

    with sqlite3.connect(f"{server.env['POSECAST_INSTANCE_PATH']}/posecast.db") as db:
        return json.loads(db.execute("SELECT world FROM samples WHERE id = ?", (sample_id,)).fetchone()[0])


def trainer_state(page, expr):
    return page.page.evaluate(f"() => JSON.parse(JSON.stringify(window.posecastTrainer.{expr}))")


def wait_trainer(page, condition, timeout_s=60):
    page.page.wait_for_function(f"() => window.posecastTrainer && ({condition})", timeout=timeout_s * 1000)


def open_trainer(browser, server, dataset=None):
    """The trainer page, ready; with `dataset`, a new dataset of that name created and chosen."""
    page = hb.open_page(browser, f"{server.url}/trainer.html", login=ADMIN)
    wait_trainer(page, "posecastTrainer.status === 'ready'")
    if dataset:
        page.page.fill("#dataset-form input[name=name]", dataset)
        page.page.click("#dataset-form button")
        wait_trainer(page, f"posecastTrainer.dataset && posecastTrainer.dataset.name === {dataset!r}")
    return page


def record(page, label, samples):
    """Add a class and hold its record button (a real mouse press) until `samples` are stored."""
    page.page.fill("#class-form input[name=label]", label)
    page.page.click("#class-form button")
    button = page.page.locator(f'.class-card[data-label="{label}"] .record')
    box = button.bounding_box()
    before = trainer_state(page, "recorded")
    page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.page.mouse.down()
    assert "Recording in" in button.inner_text()  # the countdown comes first
    wait_trainer(page, f"posecastTrainer.recorded >= {before + samples}", 60)
    page.page.mouse.up()
    wait_trainer(page, f"posecastTrainer.counts[{label!r}] >= {samples}")


def test_record_two_classes_train_and_live_page_switches(server, playwright_session, y4m):
    dance, squats = y4m("videos/tfjs-pose_1.mp4"), y4m("videos/tfjs-pose_squats.mp4")
    with hb.chromium(playwright_session, camera=dance) as live_browser, contextlib.ExitStack() as stack:
        live = hb.open_page(live_browser, f"{server.url}/")  # follows the active model's backbone
        live.wait_for("posecast.model && posecast.model.name === 'yoga5' && posecast.estimates > 3")

        # The dance trainer closes once it has recorded: three browsers running pose models at
        # once slowed everything else (the training run included) on two cores.
        with hb.chromium(playwright_session, camera=dance) as dance_browser:
            a = open_trainer(dance_browser, server, "moves")
            record(a, "dance", 8)
            assert a.outside_loopback() == [] and a.errors == []

        squat_browser = stack.enter_context(hb.chromium(playwright_session, camera=squats))
        b = hb.open_page(squat_browser, f"{server.url}/trainer.html", login=ADMIN)
        wait_trainer(b, "posecastTrainer.status === 'ready' && posecastTrainer.dataset "
                        "&& posecastTrainer.counts.dance >= 8")
        record(b, "squat", 8)
        assert b.page.locator('.class-card[data-label="squat"] .thumbs img').count() >= 8

        # Recorded with BlazePose (training's default backbone), every sample keeps the pose's world
        # landmarks: metres around the mid-hips (BlazePose's origin), not pixels.
        ds = server.api("GET", f"/api/datasets/{trainer_state(b, 'dataset.id')}").json()
        assert len(ds["samples"]) >= 16 and all(s["world"] for s in ds["samples"])
        world = stored_world(server, ds["samples"][-1]["id"])
        hips = [BLAZEPOSE33.index(n) for n in ("left_hip", "right_hip")]
        assert len(world) == 33 and abs(sum(world[i][0] for i in hips) / 2) < 0.1 and max(map(abs, sum(world, []))) < 2

        # So the run defaults to world features (as `posecast train` picks them) and says why. The
        # training choice: Quick (world: 3 models merged, one per view, 20 epochs each; other kinds
        # 1 model of 60) by default; Best accuracy merges 3 models of 120 epochs, which Teachable
        # Machine's features (tm) cannot.
        form = b.page.locator("#train-form")
        value = lambda name: form.locator(f"[name={name}]").input_value()  # noqa: E731
        assert (value("features"), value("ensemble"), value("epochs")) == ("world", "quick", "20")
        assert "every sample keeps BlazePose's 3-D landmarks" in b.page.locator("#features-note").inner_text()
        form.locator("select[name=ensemble]").select_option("best")
        assert value("epochs") == "120"
        form.locator("select[name=features]").select_option("tm")
        assert (value("ensemble"), value("epochs")) == ("quick", "60")
        form.locator("select[name=features]").select_option("world")
        form.locator("select[name=ensemble]").select_option("best")
        b.page.fill("#train-form input[name=epochs]", "10")  # 3 x 10: enough to tell two poses apart
        b.page.click("#train")
        # 18 short fits (3 models x 6 stages): seconds when idle, minutes on two busy cores.
        wait_trainer(b, "posecastTrainer.run && posecastTrainer.run.event === 'done'", 300)
        assert trainer_state(b, "run.params") == {"features": "world", "backbone": TRAIN_BACKBONE, "ensemble": 3,
                                                  "epochs": 10, "name": "moves"}
        assert trainer_state(b, "epochs") == 30  # each stage trains the 3 models, one after the other
        assert "(3 models merged × 10 epochs)" in b.page.locator("#run-report h3").inner_text()
        # Progress shows every fold (16 samples, each its own group: 5 folds), then the final model.
        assert trainer_state(b, "stages") == [f"fold {i}/5" for i in range(1, 6)] + ["final model (all samples)"]
        # Recorded with training's default backbone, and the model runs on it.
        assert trainer_state(b, "backbone") == TRAIN_BACKBONE
        assert "validation accuracy" in b.page.locator("#train-status").inner_text()

        b.page.wait_for_selector('tr[data-model="moves/1"]', timeout=10000)
        assert "(active)" in b.page.locator('tr[data-model="moves/1"]').inner_text()
        assert "3 models merged × 10 epochs" in b.page.locator('tr[data-model="moves/1"]').inner_text()
        assert next(m for m in server.api("GET", "/api/models").json()["models"]
                    if m["name"] == "moves")["backbone"] == TRAIN_BACKBONE
        live.wait_for("posecast.model && posecast.model.name === 'moves' && posecast.classification", 30)
        assert live.state("posecast.model.labels") == ["dance", "squat"]
        live.wait_for("posecast.classification.label === 'dance'", 20)  # its camera plays the dance
        assert [t.strip() for t in live.page.locator("#bars li span").all_inner_texts()] == ["dance", "squat"]
        # Roll back from the trainer page: the live page returns to the previous model.
        b.page.click("#rollback")
        live.wait_for("posecast.model && posecast.model.name === 'yoga5'", 20)
        b.page.wait_for_function("() => document.querySelector('tr[data-model=\"yoga5/1\"]').textContent.includes('active')")
        for page in (live, b):
            assert page.outside_loopback() == []
            assert page.errors == []


def test_zip_import_from_the_trainer_page(server, playwright_session, shared_data, tmp_path):
    import zipfile

    archive = tmp_path / "poses.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for label in ("warrior", "chair"):
            for path in sorted((shared_data / "yoga5" / "train" / label).glob("*.jpg"))[:3]:
                z.write(path, f"{label}/{path.name}")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../outside/a.jpg", b"\xff\xd8")
    with hb.chromium(playwright_session) as browser:
        page = open_trainer(browser, server, "zipped")
        page.page.set_input_files("#zip", str(bad))
        page.page.wait_for_function("() => document.querySelector('#message').textContent.includes('unsafe path')")
        page.page.set_input_files("#zip", str(archive))
        wait_trainer(page, "posecastTrainer.counts.warrior === 3 && posecastTrainer.counts.chair === 3", 90)
        assert page.page.locator(".class-card .thumbs img").count() == 6


def test_upload_images_and_a_video_per_class_and_relabel(server, playwright_session, shared_data):
    with hb.chromium(playwright_session) as browser:
        page = open_trainer(browser, server, "uploads")
        for label in ("tree", "dance"):
            page.page.fill("#class-form input[name=label]", label)
            page.page.click("#class-form button")
        # the third: BlazePose's detector finds nobody there, the still-image fallback must
        trees = sorted((shared_data / "yoga5" / "train" / "tree").glob("*.jpg"))[:2] + \
            [shared_data / "yoga5" / "train" / "tree" / "guy2_tree138.jpg"]
        page.page.set_input_files('.class-card[data-label="tree"] .upload input', [str(p) for p in trees])
        wait_trainer(page, "posecastTrainer.counts.tree === 3", 60)
        page.page.set_input_files('.class-card[data-label="dance"] .upload input',
                                  str(shared_data / "videos" / "tfjs-pose_1.mp4"))
        page.page.wait_for_function(
            "() => document.querySelector('#message').textContent.startsWith('tfjs-pose_1.mp4:')", timeout=90000)
        dance = trainer_state(page, "counts.dance")
        assert dance >= 15  # a 4 s clip sampled every 200 ms
        # images (the still-image fallback's pose included) and video frames keep their world landmarks too
        samples = server.api("GET", f"/api/datasets/{trainer_state(page, 'dataset.id')}").json()["samples"]
        assert len(samples) == 3 + dance and all(s["world"] for s in samples)
        # Move one tree sample to "dance".
        page.page.locator('.class-card[data-label="tree"] .thumbs select').first.select_option("dance")
        wait_trainer(page, f"posecastTrainer.counts.tree === 2 && posecastTrainer.counts.dance === {dance + 1}")
        assert page.errors == []
