"""Partners sign their requests: Standard Webhooks (symmetric, v1) instead of a token.

A marketplace or web store names itself `Keel-Partner: channel:<channel_id>`, a warehouse's
system `Keel-Partner: warehouse:<location_id>`, and signs each request, GETs too (empty body),
with `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{raw body}">`, verified by the `standardwebhooks` package against the
partner's active secrets, with its five minutes of clock tolerance.

A `webhook-id` is taken once per partner: the same id and body replays the first answer, the
same id with another body is a 409. Ids are kept `KEEP_REQUEST_IDS` (a signature older than five
minutes is refused anyway, so an older id can never come back).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, exc, update
from sqlmodel import col, select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.datastructures import Headers

from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_kit import audit
from keel_kit.context import Clock, UnitOfWork, utc_now
from keel_kit.db import Database
from keel_kit.identity import Principal, Unauthenticated
from keel_kit.problems import Conflict, NotFound
from keel_kit.tables import PartnerRequest, PartnerSecret

PARTNER_HEADER = "keel-partner"
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
KINDS = {"channel": Role.CHANNEL, "warehouse": Role.WAREHOUSE_SYSTEM}
MAX_ACTIVE_SECRETS = 2  # the old and the new, while a partner rotates
MAX_WEBHOOK_ID = 200
KEEP_REQUEST_IDS = timedelta(hours=1)
# Expired ids are swept this often, not by every request: they only need to go eventually.
SWEEP_EVERY = timedelta(minutes=1)
# A request whose id was taken but never answered (its process died) may run again after this.
ABANDONED_AFTER = timedelta(seconds=60)


def partner_name(kind: str, partner_id: str) -> str:
    return f"{kind}:{partner_id}"


def partner_id(principal: Principal, role: Role) -> str | None:
    """The channel or location a signed partner is, when it signed in that `role`."""
    if role not in principal.roles:
        return None
    return principal.subject.partition(":")[2]


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_headers(
    secret: str,
    body: bytes,
    *,
    partner: str,
    webhook_id: str | None = None,
    at: float | None = None,
) -> dict[str, str]:
    """The headers a partner sends with `body` (what demos, benches and tests sign with)."""
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = datetime.fromtimestamp(time.time() if at is None else at, tz=UTC)
    return {
        "Keel-Partner": partner,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, timestamp, body),
    }


@dataclass(frozen=True)
class SignedRequest:
    """A verified partner request: who signed it and the id it was signed under."""

    principal: Principal
    webhook_id: str


class PartnerVerifier:
    """Checks a partner's signature against its active secrets, read from the database."""

    def __init__(self, db: Database, *, clock: Clock = utc_now) -> None:
        """`clock` stamps the ids taken and decides when they expire and are swept."""
        self._db = db
        self._clock = clock
        self._next_sweep = datetime.min.replace(tzinfo=UTC)

    async def verify(self, headers: Headers, body: bytes) -> SignedRequest:
        partner = headers.get(PARTNER_HEADER, "")
        kind, _, named_id = partner.partition(":")
        if kind not in KINDS or not named_id:
            raise Unauthenticated("Keel-Partner must be channel:<channel_id> or warehouse:<id>")
        signature = {name: headers.get(name, "") for name in SIGNATURE_HEADERS}
        if not all(signature.values()):
            raise Unauthenticated(f"a signed request carries {', '.join(SIGNATURE_HEADERS)}")
        if len(signature["webhook-id"]) > MAX_WEBHOOK_ID:
            raise Unauthenticated(f"webhook-id is longer than {MAX_WEBHOOK_ID} characters")
        active = await self._active_secrets(partner)
        if not active:
            raise Unauthenticated(f"{partner} has no active signing secret")
        refusal = "no secret given"
        for secret in active:
            try:
                Webhook(secret).verify(body, signature, json_parse=False)
            except WebhookVerificationError as error:
                refusal = str(error)
                continue
            principal = Principal(subject=partner, roles=frozenset({KINDS[kind]}))
            return SignedRequest(principal, signature["webhook-id"])
        raise Unauthenticated(f"signature refused for {partner}: {refusal}")

    async def _active_secrets(self, partner: str) -> list[str]:
        async with self._db.autocommit() as session:
            rows = await session.exec(
                select(PartnerSecret.secret).where(
                    PartnerSecret.partner == partner, col(PartnerSecret.revoked_at).is_(None)
                )
            )
            return list(rows.all())

    async def take(self, request: SignedRequest, body: bytes) -> PartnerRequest | str | None:
        """Take the request's webhook id for this partner: None when it is new (run it), the
        first answer's record when it repeats one, or why it is refused (a 409)."""
        partner = request.principal.subject
        digest = hashlib.sha256(body).hexdigest()
        now = self._clock()
        try:
            # The sweep and the insert need not stand or fall together.
            async with self._db.autocommit() as session:
                if now >= self._next_sweep:
                    self._next_sweep = now + SWEEP_EVERY
                    await session.exec(
                        delete(PartnerRequest).where(
                            col(PartnerRequest.received_at) < now - KEEP_REQUEST_IDS
                        )
                    )
                session.add(
                    PartnerRequest(
                        partner=partner,
                        webhook_id=request.webhook_id,
                        request_hash=digest,
                        received_at=now,
                    )
                )
            return None
        except exc.IntegrityError:
            pass
        async with self._db.transaction() as session:
            first = await session.get(PartnerRequest, (partner, request.webhook_id))
            if first is None:  # answered as a refusal and released meanwhile: run it
                return await self.take(request, body)
            if first.request_hash != digest:
                return "this webhook-id was used with a different body"
            if first.status_code is not None:
                return first
            if as_utc(first.received_at) > now - ABANDONED_AFTER:
                return "a request with this webhook-id is still in flight"
            first.received_at = now  # its process died unanswered: this retry runs it
            return None

    async def remember(self, request: SignedRequest, status_code: int, body: bytes) -> None:
        """Keep a success to replay; release the id after a refusal, so a retry runs afresh."""
        key = (
            col(PartnerRequest.partner) == request.principal.subject,
            col(PartnerRequest.webhook_id) == request.webhook_id,
        )
        async with self._db.autocommit() as session:  # one statement
            if status_code < 300:
                await session.exec(
                    update(PartnerRequest)
                    .where(*key)
                    .values(status_code=status_code, response_body=body)
                )
            else:
                await session.exec(delete(PartnerRequest).where(*key))


async def issue_secret(uow: UnitOfWork[Any], partner: str, actor: Principal) -> PartnerSecret:
    """A new active secret for `partner`, unless two are active already (revoke one first)."""
    session = uow.session
    active = await session.exec(
        select(PartnerSecret.secret_id).where(
            PartnerSecret.partner == partner, col(PartnerSecret.revoked_at).is_(None)
        )
    )
    if len(active.all()) >= MAX_ACTIVE_SECRETS:
        raise Conflict(
            f"{partner} has {MAX_ACTIVE_SECRETS} active secrets already; revoke one first"
        )
    issued = PartnerSecret(
        secret_id=str(uuid.uuid4()),
        partner=partner,
        secret=new_secret(),
        created_at=uow.service.clock(),
        created_by=actor.subject,
    )
    session.add(issued)
    await audit.record(
        uow,
        actor=actor,
        action="partner_secret.issued",
        object_type="partner_secret",
        object_id=issued.secret_id,
        owner_role=Role.ADMIN,
        after={"partner": partner},  # never the secret itself
    )
    return issued


async def revoke_secret(
    uow: UnitOfWork[Any], partner: str, secret_id: str, actor: Principal
) -> None:
    """Revoke one of `partner`'s secrets at once; revoking it again changes nothing."""
    found = await uow.session.get(PartnerSecret, secret_id)
    if found is None or found.partner != partner:
        raise NotFound(f"{partner} has no secret {secret_id}")
    if found.revoked_at is not None:
        return
    found.revoked_at = uow.service.clock()
    found.revoked_by = actor.subject
    await audit.record(
        uow,
        actor=actor,
        action="partner_secret.revoked",
        object_type="partner_secret",
        object_id=secret_id,
        owner_role=Role.ADMIN,
        before={"partner": partner, "active": True},
        after={"partner": partner, "active": False},
    )
