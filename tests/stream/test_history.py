"""The label log's REST API on SQLite and on a real PostgreSQL server: query, counts per
interval, streamed export, clients, retention."""
import csv
import io
import json

import pytest

from server import db
from server.stream import history, label_log as labels
from tests.helpers.auth import ADMIN, login

T0 = 1_790_000_000_000  # a fixed page time (ms) so buckets are predictable
MIN = 60_000


def rows(n, client="client-0001", start=0, label=lambda i: "tree" if i % 3 else "chair", step=1000, **over):
    return [{"client_id": client, "seq": start + i, "ts": T0 + i * step, "received_at": T0 + i * step + 5,
             "label": label(i), "confidence": 0.5 + (i % 5) / 10, "model": "yoga5", "model_version": 1,
             "backbone": "posenet", "person": 0, "fps": 30.0, "session_id": None, **over} for i in range(n)]


@pytest.fixture
def app(any_db_app):
    with db.engine_of(any_db_app).begin() as conn:
        new = labels.insert_events(conn, rows(300) + rows(50, client="client-0002", model="other"))
    assert len(new) == 350
    return any_db_app


@pytest.fixture
def client(app):
    return login(app.test_client(), *ADMIN)


def test_insert_skips_duplicates_and_reports_only_new(app):
    with db.engine_of(app).begin() as conn:
        new = labels.insert_events(conn, rows(5, start=298))
    assert new == {("client-0001", 300), ("client-0001", 301), ("client-0001", 302)}


def test_query_filters_and_pages(client):
    page = client.get("/api/labels?client_id=client-0001&label=chair&limit=40").get_json()
    assert len(page["events"]) == 40 and {e["label"] for e in page["events"]} == {"chair"}
    rest = client.get(f"/api/labels?client_id=client-0001&label=chair&limit=1000&after_id={page['next_after_id']}").get_json()
    assert len(page["events"]) + len(rest["events"]) == 100 and rest["next_after_id"] is None
    seqs = [e["seq"] for e in page["events"] + rest["events"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 100
    assert len(client.get("/api/labels?model=other&limit=5000").get_json()["events"]) == 50


def test_newest_first_pages_backwards(client):
    first = client.get("/api/labels?order=desc&limit=100&client_id=client-0001").get_json()
    assert [e["seq"] for e in first["events"]] == list(range(299, 199, -1))
    rest = client.get(f"/api/labels?order=desc&limit=1000&client_id=client-0001&before_id={first['next_before_id']}").get_json()
    assert [e["seq"] for e in rest["events"]] == list(range(199, -1, -1)) and rest["next_before_id"] is None
    assert client.get("/api/labels?order=random").status_code == 400


def test_time_range_takes_ms_or_iso(client):
    since, until = T0 + 10_000, T0 + 20_000
    by_ms = client.get(f"/api/labels?client_id=client-0001&since={since}&until={until}").get_json()["events"]
    assert [e["ts"] for e in by_ms] == list(range(since, until, 1000))
    iso = "2026-09-21T14:13:30Z"  # T0 + 10 s
    by_iso = client.get(f"/api/labels?client_id=client-0001&since={iso}&until={until}").get_json()["events"]
    assert [e["ts"] for e in by_iso] == [e["ts"] for e in by_ms]


def test_counts_per_interval(client):
    body = client.get("/api/labels/counts?client_id=client-0001&interval=60").get_json()
    assert body["interval"] == 60
    total = {}
    for b in body["buckets"]:
        assert b["t"] % MIN == 0
        total[b["label"]] = total.get(b["label"], 0) + b["count"]
    assert total == {"chair": 100, "tree": 200}
    first_minute = [b for b in body["buckets"] if b["t"] == T0 // MIN * MIN]
    assert sum(b["count"] for b in first_minute) == (MIN - T0 % MIN) // 1000


def test_exports_stream_every_matching_row(client, monkeypatch):
    monkeypatch.setattr(history, "EXPORT_PAGE", 64)  # many pages
    r = client.get("/api/labels/export.csv?client_id=client-0001")
    assert r.status_code == 200 and r.mimetype == "text/csv" and r.is_streamed
    assert "attachment" in r.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [int(x["seq"]) for x in table] == list(range(300))
    lines = client.get("/api/labels/export.jsonl?label=tree").get_data(as_text=True).splitlines()
    assert len(lines) == 200 + 33 and all(json.loads(x)["label"] == "tree" for x in lines)
    assert client.get("/api/labels/export.xml").status_code == 404


def test_csv_export_defuses_formulas(app, client):
    with db.engine_of(app).begin() as conn:
        labels.insert_events(conn, rows(1, client="client-0003", label=lambda i: "=HYPERLINK(1)"))
    table = list(csv.DictReader(io.StringIO(client.get("/api/labels/export.csv?client_id=client-0003").get_data(as_text=True))))
    assert table[0]["label"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("query,message", [
    ("limit=0", "limit"), ("limit=99999", "limit"), ("limit=x", "limit"), ("after_id=-1", "after_id"),
    ("since=yesterday", "since"), ("until=2026-13-01", "until"), ("colour=red", "unknown parameter"),
])
def test_bad_queries_are_400(client, query, message):
    r = client.get(f"/api/labels?{query}")
    assert r.status_code == 400 and message in r.get_json()["error"]


def test_counts_interval_is_checked(client):
    assert client.get("/api/labels/counts?interval=0").status_code == 400


def test_retention_deletes_only_old_events(app, client, monkeypatch):
    monkeypatch.setattr(history, "PURGE_CHUNK", 40)  # several chunks
    app.config["RETENTION_DAYS"] = 1
    assert history.purge(app, now_ms=T0 + 86400_000 + 100_500) == 101 + 50  # ts < now - 1 day
    left = client.get("/api/labels?limit=5000").get_json()["events"]
    assert min(e["ts"] for e in left) >= T0 + 100_500
    app.config["RETENTION_DAYS"] = 0
    assert history.purge(app, now_ms=T0 + 10 * 86400_000) == 0
    assert client.post("/api/labels/purge").get_json() == {"deleted": 0, "retention_days": 0}


def test_retention_goes_by_the_servers_clock_not_the_pages(app, client):
    """An event acknowledged now lives RETENTION_DAYS from now, even with an old page time."""
    now, day = T0 + 400 * 86400_000, 86400_000
    with db.engine_of(app).begin() as conn:
        labels.insert_events(conn, rows(1, client="old-page-clock", ts=now - 91 * day, received_at=now)
                             + rows(1, client="received-long-ago", ts=now, received_at=now - 91 * day))
    app.config["RETENTION_DAYS"] = 90
    history.purge(app, now_ms=now + 1000)
    left = {e["client_id"] for e in client.get("/api/labels?limit=5000").get_json()["events"]}
    assert left == {"old-page-clock"}


def test_an_index_added_later_is_made_at_start(app):
    from sqlalchemy import inspect, text

    with db.engine_of(app).begin() as conn:
        conn.execute(text("DROP INDEX ix_label_events_received_at"))
        labels.ensure_indexes(conn)
        assert "ix_label_events_received_at" in {i["name"] for i in inspect(conn).get_indexes("label_events")}


def test_clients_list_counts_events(app, client):
    with db.engine_of(app).begin() as conn:
        labels.open_session(conn, {"client_id": "client-0001", "name": "cam"}, "127.0.0.1", "test")
    got = {c["client_id"]: c for c in client.get("/api/clients").get_json()["clients"]}
    assert got["client-0001"]["events"] == 300 and got["client-0001"]["name"] == "cam"
    assert got["client-0001"]["connected"] is False
    assert len(client.get("/api/clients/client-0001/sessions").get_json()["sessions"]) == 1
