"""Test logins: the admin every test app creates, and logging a Flask test client in."""
ADMIN = ("admin", "admin-password-1")
ADMIN_CONFIG = {"ADMIN_USER": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1]}
ADMIN_ENV = {"POSECAST_ADMIN_USER": ADMIN[0], "POSECAST_ADMIN_PASSWORD": ADMIN[1]}


def login(client, username: str, password: str):
    """Log a Flask test client in; every later request sends the session's CSRF token."""
    token = client.get("/api/me").get_json()["csrf_token"]
    r = client.post("/api/login", json={"username": username, "password": password},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.get_json()
    client.environ_base["HTTP_X_CSRF_TOKEN"] = r.get_json()["csrf_token"]
    return client
