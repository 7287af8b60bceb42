"""Alert rules ("label X with confidence >= c held for >= t seconds, per client"), the alerts they
raise, and their REST API. Rules are evaluated on every newly stored label event, in page time,
per client and person; an alert is raised once per hold and again only after the label let go."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, Integer, String, Table, select

from core.checks import Invalid, check_number, check_text, fields
from core.clock import now_ms

from .. import auth, db
from ..errors import int_arg
from . import label_log, services
from .pose_checks import CLIENT_ID

rules = Table(
    "alert_rules", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("labels", JSON, nullable=False),  # any of these labels
    Column("min_confidence", Float, nullable=False),
    Column("hold_s", Float, nullable=False),
    Column("client_id", String(64)),  # None: every client
    Column("enabled", Boolean, nullable=False, default=True),
    Column("preset", String(32)),
    Column("created_at", BigInteger, nullable=False),
)

alerts = Table(
    "alerts", db.metadata,
    Column("id", label_log.BigId, primary_key=True, autoincrement=True),
    Column("rule_id", Integer, index=True),
    Column("rule_name", String(64), nullable=False),
    Column("client_id", String(64), nullable=False, index=True),
    Column("client_name", String(64)),
    Column("person", Integer, nullable=False),
    Column("label", String(64), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("started_ts", BigInteger, nullable=False),  # page time the label began to hold
    Column("raised_ts", BigInteger, nullable=False),  # page time the hold was reached
    Column("raised_at", BigInteger, nullable=False, index=True),  # server time
    Column("acknowledged_at", BigInteger),
    Column("acknowledged_by", String(64)),
)

# A fall shows up as a model's fall-like class held for a moment; train one with these names.
PRESETS = {
    "fall": {"name": "Fall detected", "labels": ["fall", "fallen", "falling", "lying", "on_floor"],
             "min_confidence": 0.7, "hold_s": 1.0},
}
RULE_FIELDS = {"name", "labels", "min_confidence", "hold_s", "client_id", "enabled", "preset"}

bp = Blueprint("alerts", __name__, url_prefix="/api")


def validate_rule(body) -> dict:
    fields(body, optional=RULE_FIELDS)
    preset = body.get("preset")
    if preset is not None and preset not in PRESETS:
        raise Invalid(f"preset must be one of {', '.join(PRESETS)}")
    rule = {**PRESETS.get(preset, {}), **{k: v for k, v in body.items() if k != "preset"}}
    label_list = rule.get("labels")
    if isinstance(label_list, str):
        label_list = [label_list]
    if not isinstance(label_list, list) or not 1 <= len(label_list) <= 20:
        raise Invalid("labels must be a label or a list of 1-20 labels")
    label_list = [check_text(x, "each label") for x in label_list]
    name = check_text(rule.get("name") or f"{label_list[0]} held", "name")
    conf = check_number(rule.get("min_confidence", 0.8), "min_confidence", 0, 1)
    hold = check_number(rule.get("hold_s", 2.0), "hold_s", 0, 3600)
    client_id = rule.get("client_id")
    if client_id is not None and (not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id)):
        raise Invalid("client_id must be a client id or null (every client)")
    enabled = rule.get("enabled", True)
    if not isinstance(enabled, bool):
        raise Invalid("enabled must be true or false")
    return {"name": name, "labels": label_list, "min_confidence": conf, "hold_s": hold,
            "client_id": client_id, "enabled": enabled, "preset": preset}


def _rule_json(r) -> dict:
    return {k: getattr(r, k) for k in ("id", "name", "labels", "min_confidence", "hold_s", "client_id",
                                       "enabled", "preset", "created_at")}


def alert_json(r) -> dict:
    return dict(r._mapping)


class Engine:
    """Evaluates the enabled rules; state per (rule, client, person).

    Its hooks (_claim, _let_go, _keep) do nothing here: in a cluster (shared_alerts.SharedEngine)
    they make each alert fire once whichever process the client is connected to."""

    def __init__(self, app, on_alert):
        self.app = app
        self.on_alert = on_alert  # called with every alert raised (the dashboard hub shows it)
        self.rules: list[dict] | None = None
        self.state: dict[tuple, dict] = {}

    def reload(self) -> None:
        self.rules = None

    def rules_changed(self) -> None:
        """A rule was added, changed or deleted (here)."""
        self.reload()

    def _rules(self) -> list[dict]:
        if self.rules is None:
            with self.app.app_context(), db.engine().connect() as conn:
                self.rules = [_rule_json(r) for r in conn.execute(select(rules).where(rules.c.enabled.is_(True)))]
            self.state = {k: v for k, v in self.state.items() if any(r["id"] == k[0] for r in self.rules)}
        return self.rules

    def evaluate(self, rows: list[dict]) -> list[dict]:
        active = self._rules() if rows else []
        if not active:  # the common case costs no database round-trip
            return []
        raised, held, let_go = [], [], []
        with self.app.app_context(), db.engine().begin() as conn:
            for r in sorted(rows, key=lambda r: (r["client_id"], r["person"], r["ts"], r["seq"])):
                for rule in active:
                    if rule["client_id"] not in (None, r["client_id"]):
                        continue
                    key = (rule["id"], r["client_id"], r["person"])
                    st = self.state.get(key)
                    if st is None:  # new here: the client may have held this label on another process
                        st = self.state[key] = {"since": None, "raised": False, "last_ts": 0, "new": True}
                    if r["ts"] < st["last_ts"]:
                        continue  # a late resend must not rewind the hold
                    st["last_ts"] = r["ts"]
                    if r["label"] in rule["labels"] and r["confidence"] >= rule["min_confidence"]:
                        st["since"] = st["since"] if st["since"] is not None else r["ts"]
                        if not st["raised"] and r["ts"] - st["since"] >= rule["hold_s"] * 1000:
                            st["raised"] = True
                            if self._claim(key):
                                raised.append(self._raise(conn, rule, r, st["since"]))
                        elif st["raised"]:
                            held.append(key)
                    else:
                        if st["since"] is not None or st["new"]:
                            let_go.append(key)
                        st.update(since=None, raised=False)
                    st["new"] = False
        self._let_go(let_go)
        self._keep(held)
        for a in raised:
            self.on_alert(a)
        return raised

    def _claim(self, key: tuple) -> bool:
        """The hold of `key` (rule, client, person) was reached here: may its alert be raised?"""
        return True

    def _let_go(self, keys: list[tuple]) -> None:
        """These holds ended (or were first seen ended here)."""

    def _keep(self, keys: list[tuple]) -> None:
        """These raised holds are still held."""

    def _raise(self, conn, rule: dict, r: dict, since: int) -> dict:
        name = conn.execute(select(label_log.clients.c.name).where(label_log.clients.c.client_id == r["client_id"])).scalar()
        values = {"rule_id": rule["id"], "rule_name": rule["name"], "client_id": r["client_id"], "client_name": name,
                  "person": r["person"], "label": r["label"], "confidence": r["confidence"], "started_ts": since,
                  "raised_ts": r["ts"], "raised_at": now_ms(), "acknowledged_at": None, "acknowledged_by": None}
        values["id"] = conn.execute(alerts.insert().values(**values)).inserted_primary_key[0]
        return values




@bp.get("/alert-rules")
def list_rules():
    with db.engine().connect() as conn:
        rows = conn.execute(select(rules).order_by(rules.c.id)).all()
    return jsonify(rules=[_rule_json(r) for r in rows], presets=PRESETS)


@bp.post("/alert-rules")
def create_rule():
    """{labels, min_confidence?, hold_s?, name?, client_id?, enabled?} or {preset: 'fall', client_id?}."""
    rule = validate_rule(request.get_json(silent=True))
    with db.engine().begin() as conn:
        rule_id = conn.execute(rules.insert().values(**rule, created_at=now_ms())).inserted_primary_key[0]
        row = conn.execute(select(rules).where(rules.c.id == rule_id)).first()
    services.of(current_app).alerts.rules_changed()
    return jsonify(_rule_json(row)), 201


@bp.patch("/alert-rules/<int:rule_id>")
def update_rule(rule_id: int):
    body = request.get_json(silent=True)
    with db.engine().begin() as conn:
        row = conn.execute(select(rules).where(rules.c.id == rule_id)).first()
        if row is None:
            return jsonify(error="no such rule"), 404
        if not isinstance(body, dict):
            raise Invalid("expected a JSON object")
        merged = validate_rule({**{k: v for k, v in _rule_json(row).items() if k in RULE_FIELDS - {"preset"}}, **body})
        conn.execute(rules.update().where(rules.c.id == rule_id).values(**merged))
        row = conn.execute(select(rules).where(rules.c.id == rule_id)).first()
    services.of(current_app).alerts.rules_changed()
    return jsonify(_rule_json(row))


@bp.delete("/alert-rules/<int:rule_id>")
def delete_rule(rule_id: int):
    with db.engine().begin() as conn:
        if conn.execute(rules.delete().where(rules.c.id == rule_id)).rowcount == 0:
            return jsonify(error="no such rule"), 404
    services.of(current_app).alerts.rules_changed()
    return "", 204


@bp.get("/alerts")
def list_alerts():
    """?status=open|acknowledged|all (default all), ?client_id=, ?limit= (1-1000, default 200); newest first."""
    status = request.args.get("status", "all")
    if status not in ("open", "acknowledged", "all"):
        raise Invalid("status must be open, acknowledged or all")
    limit = int_arg("limit", 200, 1, 1000)
    q = select(alerts).order_by(alerts.c.id.desc()).limit(limit)
    if status == "open":
        q = q.where(alerts.c.acknowledged_at.is_(None))
    elif status == "acknowledged":
        q = q.where(alerts.c.acknowledged_at.is_not(None))
    if request.args.get("client_id"):
        q = q.where(alerts.c.client_id == request.args["client_id"])
    with db.engine().connect() as conn:
        rows = conn.execute(q).all()
    return jsonify(alerts=[alert_json(r) for r in rows])


@bp.post("/alerts/<int:alert_id>/ack")
def acknowledge(alert_id: int):
    """An operator acknowledges an alert; every dashboard is told."""
    user = auth.current_user()
    with db.engine().begin() as conn:
        row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            return jsonify(error="no such alert"), 404
        if row.acknowledged_at is None:
            conn.execute(alerts.update().where(alerts.c.id == alert_id)
                         .values(acknowledged_at=now_ms(), acknowledged_by=user["username"]))
        row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    services.of(current_app).hub.alert_acknowledged(alert_json(row))
    return jsonify(alert_json(row))
