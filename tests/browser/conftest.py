"""Browser tests share the fixtures in tests/conftest.py."""
