"""Finance's settings: where it finds the services it asks over HTTP."""

import pytest

from keel_finance.settings import Settings

pytestmark = pytest.mark.unit


def test_inventory_is_asked_on_its_local_port_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEEL_FINANCE_INVENTORY_URL", raising=False)
    assert Settings().inventory_url == "http://127.0.0.1:8102"


def test_inventory_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEL_FINANCE_INVENTORY_URL", "http://inventory:8102")
    assert Settings().inventory_url == "http://inventory:8102"
