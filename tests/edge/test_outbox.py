"""The durable outbox: numbers survive a restart, only committed events exist, acks remove."""
import sqlite3

import pytest

from edge.outbox import Outbox, StateDirBusy


def event(label="tree"):
    return {"ts": 1_800_000_000_000, "label": label, "confidence": 0.9}


def test_client_id_and_seq_survive_a_restart(tmp_path):
    box = Outbox(tmp_path)
    cid = box.client_id
    assert [box.push(event()) for _ in range(3)] == [0, 1, 2]
    box.commit()
    assert [e["seq"] for e in box.oldest(10)] == [0, 1, 2]
    box.acknowledge([0, 1])
    box.close()
    box = Outbox(tmp_path)
    assert box.client_id == cid and box.next_seq == 3
    assert [e["seq"] for e in box.oldest(10)] == [2] and box.depth() == 1
    assert box.push(event()) == 3
    box.close()


def test_uncommitted_events_are_never_sent_and_their_numbers_reused(tmp_path):
    box = Outbox(tmp_path)
    box.push(event())
    box.commit()
    box.push(event("chair"))  # a crash now: never committed, so never sent
    assert [e["seq"] for e in box.oldest(10)] == [0]
    box.db.close()  # as after kill -9: no commit at exit
    box._lock_file.close()
    box = Outbox(tmp_path)
    assert box.next_seq == 1 and box.depth() == 1
    box.close()


def test_acknowledged_seqs_are_never_reused(tmp_path):
    box = Outbox(tmp_path)
    for _ in range(5):
        box.push(event())
    box.commit()
    box.acknowledge([0, 1, 2, 3, 4])  # empty outbox: next seq comes from meta, not MAX(seq)
    box.close()
    assert Outbox(tmp_path).next_seq == 5


def test_one_node_per_state_dir(tmp_path):
    box = Outbox(tmp_path)
    with pytest.raises(StateDirBusy):
        Outbox(tmp_path)
    box.close()


def test_the_outbox_is_bounded_and_counts_what_it_drops(tmp_path):
    box = Outbox(tmp_path, max_events=4)
    for _ in range(6):
        box.push(event())
    box.commit()
    assert [e["seq"] for e in box.oldest(10)] == [2, 3, 4, 5] and box.dropped == 2
    box.close()
    rows = sqlite3.connect(tmp_path / "outbox.sqlite").execute("SELECT value FROM meta WHERE key='next_seq'").fetchall()
    assert rows == [("6",)]
