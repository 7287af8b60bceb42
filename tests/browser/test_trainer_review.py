"""The trainer page's data checks: the explore view (map, flagged samples per class, one click to
delete or move) and a run's report (confusion matrix, misclassified samples)."""
import json
import sqlite3
import uuid

from tests.helpers import browser as hb
from tests.helpers.auth import ADMIN
from tests.samples.test_datasets import sample
from tests.samples.test_explore import as_keypoints, dataset_rows


def wait_trainer(page, condition, timeout_s=30):
    page.page.wait_for_function(f"() => window.posecastTrainer && ({condition})", timeout=timeout_s * 1000)


def labels_of(server, dataset_id):
    return {s["id"]: s["label"] for s in server.api("GET", f"/api/datasets/{dataset_id}").json()["samples"]}


def test_explore_and_run_report(playwright_session, live_server):
    ds = live_server.api("POST", "/api/datasets", json={"name": f"review-{uuid.uuid4().hex[:8]}"}).json()
    ids = [live_server.api("POST", f"/api/datasets/{ds['id']}/samples",
                           json=sample(label, keypoints=as_keypoints(kps), tm=None)).json()["id"]
           for label, kps in dataset_rows()]
    metrics = {"accuracy": 0.8, "labels": ["down", "up"], "per_class": {"down": 0.8, "up": 0.9},
               "confusion": [[8, 2], [1, 9]],
               "mistakes": [{"index": 19, "sample_id": ids[19], "true": "up", "said": "down", "confidence": 0.97}]}
    db = live_server.env["POSECAST_INSTANCE_PATH"] + "/posecast.db"
    with sqlite3.connect(db) as conn:
        run_id = conn.execute(
            "INSERT INTO training_runs (dataset_id, status, params, counts, metrics, duration_s, started_at) "
            "VALUES (?, 'done', ?, '{}', ?, 1.0, '2026-11-25 12:00:00.000000')",
            (ds["id"], json.dumps({"epochs": 120, "ensemble": 3}), json.dumps(metrics))).lastrowid

    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{live_server.url}/trainer.html", login=ADMIN)
        wait_trainer(page, "posecastTrainer.status === 'ready'")
        page.page.select_option("#dataset-form select[name=dataset]", str(ds["id"]))
        wait_trainer(page, f"posecastTrainer.report && posecastTrainer.report.id === {run_id}")

        # The run's report: how it was trained, the confusion matrix and its misclassified sample.
        assert "(3 models merged × 120 epochs)" in page.page.locator("#run-report h3").inner_text()
        # Cell by cell: innerText only separates cells once the table is laid out.
        cells = page.page.locator("table.confusion tr").evaluate_all(
            "rows => rows.map((r) => [...r.cells].map((c) => c.textContent.trim()))")
        assert cells[1][:4] == ["down", "8", "2", "80 %"] and cells[2][:3] == ["up", "1", "9"], cells
        mistake = page.page.locator(f'#run-report li[data-sample="{ids[19]}"]')
        assert "up, said down 97 %" in mistake.inner_text()
        assert mistake.locator("img").get_attribute("src") == f"/api/samples/{ids[19]}/thumbnail"

        # The explore view: what to review, per class.
        page.page.click("#explore-button")
        wait_trainer(page, "posecastTrainer.explore")
        flagged = page.page.evaluate("() => window.posecastTrainer.explore")
        assert flagged == {"no_pose": 1, "unsure": 1, "mislabel": 2, "duplicate": 1}, flagged  # 19: arms down, labelled up
        assert page.page.evaluate("""() => { const c = document.querySelector('#explore-map');
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let ink = 0; for (let i = 3; i < px.length; i += 4) ink += px[i] > 0; return ink; }""") > 200
        down = page.page.locator('#explore-list section[data-label="down"] h3').inner_text()
        assert down.startswith("down: 10 samples") and "1 likely mislabelled" in down

        # One click each: move the likely mislabel to the class its neighbours suggest, delete the duplicate.
        page.page.locator(f'#explore-list li[data-sample="{ids[16]}"] button', has_text="Move to up").click()
        page.page.wait_for_function(f"() => !document.querySelector('#explore-list li[data-sample=\"{ids[16]}\"]')")
        page.page.locator(f'#explore-list li[data-sample="{ids[17]}"] button', has_text="Delete").click()
        wait_trainer(page, "posecastTrainer.explore.duplicate === 0")
        labels = labels_of(live_server, ds["id"])
        assert labels[ids[16]] == "up" and ids[17] not in labels

        # From the report too: the misclassified sample moved to what the model said.
        mistake.locator("button", has_text="Move to down").click()
        page.page.wait_for_function("() => window.posecastTrainer.counts.down === 10")  # 9 after the move above
        assert labels_of(live_server, ds["id"])[ids[19]] == "down"
        assert page.errors == []
