"""Finance HTTP API."""

from fastapi import APIRouter

from keel_finance import domain, repository, service
from keel_finance.schemas import JournalEntryPublic, JournalLinePublic, TrialBalance
from keel_kit.app import RuntimeDep

router = APIRouter(prefix="/v1", tags=["finance"])


@router.get("/trial-balance")
async def get_trial_balance(runtime: RuntimeDep) -> TrialBalance:
    async with runtime.db.transaction() as session:
        return await service.trial_balance(session=session)


@router.get("/journal")
async def get_journal(source_id: str, runtime: RuntimeDep) -> list[JournalEntryPublic]:
    async with runtime.db.transaction() as session:
        entries = await repository.entries_for_source(session, source_id)
    return [
        JournalEntryPublic(
            **entry.model_dump(),
            lines=[
                JournalLinePublic(
                    account=line.account,
                    account_name=domain.ACCOUNTS[line.account].name,
                    debit=line.debit,
                    credit=line.credit,
                )
                for line in lines
            ],
        )
        for entry, lines in entries
    ]
