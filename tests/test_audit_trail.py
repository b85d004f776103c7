"""The audit trail's hash chain, on a real service's database (its kit migrations, SQLite): what
is appended reads back through `GET /v1/audit`, and editing, deleting or reordering entries, or
cutting the last one off, is caught at the first entry it breaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.identity import Principal
from keel_kit.testing import ServiceUnderTest, running
from keel_order.main import create_app
from keel_order.settings import Settings

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

FAY = Principal(subject="fay", roles=frozenset({Role.FINANCE}))
KIM = Principal(subject="kim", roles=frozenset({Role.CUSTOMER_SERVICE}))


async def _append(sut: ServiceUnderTest, count: int) -> None:
    for n in range(1, count + 1):
        async with sut.context.unit_of_work() as uow:
            who, owner = (FAY, Role.FINANCE) if n % 2 else (KIM, Role.CUSTOMER_SERVICE)
            await audit.record(
                uow,
                actor=who,
                action="hold.resolved",
                object_type="hold",
                object_id=f"ORD-{n}",
                owner_role=owner,
                before={"status": "open"},
                after={"status": "resolved", "n": n},
                reason=f"reason {n}",
            )


async def _verdict(sut: ServiceUnderTest) -> audit.BrokenLink | None:
    page = await sut.get_json("/v1/audit/chain")
    assert page["next_cursor"] is None
    return audit.broken_link(page["entries"], page["head"])


async def _sql(sut: ServiceUnderTest, statement: str, **params: Any) -> None:
    async with sut.db.transaction() as session:
        await (await session.connection()).execute(text(statement), params)


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app(
        Settings(state_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    )


async def test_a_chain_as_appended_holds_and_reads_back_by_object_and_actor(app: Any) -> None:
    async with running(app, ServiceUnderTest) as sut:
        await _append(sut, 4)
        assert await _verdict(sut) is None
        found = await sut.get_json("/v1/audit", object_id="ORD-3")
        (entry,) = found["items"]
        assert (entry["actor"], entry["role"], entry["action"]) == (
            "fay",
            "finance",
            "hold.resolved",
        )
        assert entry["before"] == {"status": "open"}
        assert entry["after"] == {"status": "resolved", "n": 3}
        assert entry["request_id"] is None  # appended outside a request
        by_kim = await sut.get_json("/v1/audit", actor="kim")
        assert [e["object_id"] for e in by_kim["items"]] == ["ORD-4", "ORD-2"]


async def test_each_role_sees_the_entries_of_what_it_owns(app: Any) -> None:
    async with running(app, ServiceUnderTest) as sut:
        await _append(sut, 4)
        as_finance = await sut.client.get("/v1/audit", headers=sut.as_person("fay", Role.FINANCE))
        assert {e["owner_role"] for e in as_finance.json()["items"]} == {"finance"}
        leader = sut.as_person("lee", Role.LEADERSHIP)
        assert len((await sut.client.get("/v1/audit", headers=leader)).json()["items"]) == 4
        chain = await sut.client.get("/v1/audit/chain", headers=leader)
        assert chain.status_code == 403


@pytest.mark.parametrize(
    ("tamper", "broken_at", "why"),
    [
        (["UPDATE audit_entry SET reason = 'nothing to see' WHERE seq = 2"], 2, "edited"),
        (["UPDATE audit_entry SET actor = 'mallory' WHERE seq = 3"], 3, "edited"),
        (["DELETE FROM audit_entry WHERE seq = 2"], 2, "entry 2 is missing"),
        (["DELETE FROM audit_entry WHERE seq = 4"], 4, "the head names entry 4"),
        # Swap two entries' places: each keeps its hash, neither follows its new neighbour.
        (
            [
                "UPDATE audit_entry SET seq = -1 WHERE seq = 2",
                "UPDATE audit_entry SET seq = 2 WHERE seq = 3",
                "UPDATE audit_entry SET seq = 3 WHERE seq = -1",
            ],
            2,
            "does not follow",
        ),
    ],
)
async def test_tampering_is_caught_at_the_first_broken_entry(
    app: Any, tamper: list[str], broken_at: int, why: str
) -> None:
    async with running(app, ServiceUnderTest) as sut:
        await _append(sut, 4)
        for statement in tamper:
            await _sql(sut, statement)
        broken = await _verdict(sut)
        assert broken is not None
        assert broken.seq == broken_at
        assert why in broken.problem


async def test_an_entry_rewritten_with_a_fresh_hash_still_breaks_the_next_link(app: Any) -> None:
    async with running(app, ServiceUnderTest) as sut:
        await _append(sut, 4)
        page = await sut.get_json("/v1/audit/chain")
        second = page["entries"][1] | {"reason": "rewritten"}
        forged = audit.entry_hash(second)
        await _sql(
            sut,
            "UPDATE audit_entry SET reason = 'rewritten', hash = :hash WHERE seq = 2",
            hash=forged,
        )
        broken = await _verdict(sut)
        assert broken == audit.BrokenLink(
            3, "does not follow the entry before it (prev_hash differs)"
        )
