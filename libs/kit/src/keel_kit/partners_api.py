"""The door to a kind of partner's signing secrets, mounted by the service that owns the
partner: order for channels (`/v1/channels/{channel_id}/secrets`), fulfillment for warehouses
(`/v1/warehouses/{location_id}/secrets`). Issuing and revoking are admin's, and audited.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel

from keel_kit import partners
from keel_kit.access import Permissions, PrincipalDep, roles, table
from keel_kit.context import UnitOfWork
from keel_kit.problems import NotFound
from keel_kit.runtime import RuntimeDep

PartnerExists = Callable[[UnitOfWork[Any], str], Awaitable[bool]]


class SecretIssued(BaseModel):
    secret_id: str
    secret: str  # shown this once: Keel keeps it to verify, but never answers it again


def secrets_router(
    *, kind: str, collection: str, id_name: str, exists: PartnerExists
) -> tuple[APIRouter, Permissions]:
    """Routes under `/v1/{collection}/{id_name}/secrets` for partners of `kind`, and their
    permissions (admin's only); `exists` says whether the partner is known here."""
    base = f"/v1/{collection}/{{{id_name}}}/secrets"
    router = APIRouter(tags=["partners"])
    PartnerId = Annotated[str, Path(alias=id_name, min_length=1, max_length=100)]  # noqa: N806

    async def known(uow: UnitOfWork[Any], partner_id: str) -> str:
        if not await exists(uow, partner_id):
            raise NotFound(f"no {kind} {partner_id}")
        return partners.partner_name(kind, partner_id)

    @router.post(base, status_code=status.HTTP_201_CREATED, name=f"issue_{kind}_secret")
    async def issue(
        partner_id: PartnerId, runtime: RuntimeDep, principal: PrincipalDep
    ) -> SecretIssued:
        """A new signing secret (`whsec_…`), shown once. Two may be active at once, for
        rotation: issue the new one, move the partner over, revoke the old."""
        async with runtime.context.unit_of_work() as uow:
            partner = await known(uow, partner_id)
            issued = await partners.issue_secret(uow, partner, principal)
        return SecretIssued(secret_id=issued.secret_id, secret=issued.secret)

    @router.delete(
        f"{base}/{{secret_id}}",
        status_code=status.HTTP_204_NO_CONTENT,
        name=f"revoke_{kind}_secret",
    )
    async def revoke(
        partner_id: PartnerId,
        secret_id: Annotated[str, Path(max_length=36)],
        runtime: RuntimeDep,
        principal: PrincipalDep,
    ) -> Response:
        """Revoke a secret: requests signed with it are refused from now on."""
        async with runtime.context.unit_of_work() as uow:
            partner = await known(uow, partner_id)
            await partners.revoke_secret(uow, partner, secret_id, principal)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    permissions = table([("POST", base, roles()), ("DELETE", f"{base}/{{secret_id}}", roles())])
    return router, permissions
