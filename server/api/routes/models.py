"""Behaviour models: the active one, the candidate in shadow and its before/after report
(admins; supervisors read it for their stores' cameras); admins promote the candidate,
discard it, or go back to the previous model. Changes apply to every camera at its next
scoring, without a restart."""

from fastapi import APIRouter, status

from server.api.deps import AdminUser, AuditDep, ReviewerUser, RuntimeDep, SessionDep
from server.services.model_report import models_public
from shared.schemas.models import ModelPromote, ModelsPublic

router = APIRouter(prefix="/models", tags=["models"])


@router.get("")
async def read_models(
    principal: ReviewerUser, session: SessionDep, runtime: RuntimeDep
) -> ModelsPublic:
    """The active, candidate and previous models, and the candidate's shadow report."""
    return await models_public(
        session=session,
        service=runtime.models,
        pipeline=runtime.pipeline,
        store_ids=principal.store_scope,
    )


@router.post("/candidate/promote")
async def promote_candidate(
    _: AdminUser,
    session: SessionDep,
    runtime: RuntimeDep,
    audit: AuditDep,
    body: ModelPromote | None = None,
) -> ModelsPublic:
    """Make the candidate the active model (the active one becomes the previous)."""
    change = await runtime.models.promote(body.identity if body is not None else None)
    await audit.record("model.promote", "model", change.after.identity, {"previous": change.before})
    await session.commit()
    return await models_public(
        session=session, service=runtime.models, pipeline=runtime.pipeline, store_ids=None
    )


@router.post("/previous/restore")
async def restore_previous(
    _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> ModelsPublic:
    """Make the previous model active again (the active one becomes the previous)."""
    change = await runtime.models.restore()
    await audit.record("model.restore", "model", change.after.identity, {"previous": change.before})
    await session.commit()
    return await models_public(
        session=session, service=runtime.models, pipeline=runtime.pipeline, store_ids=None
    )


@router.delete("/candidate", status_code=status.HTTP_204_NO_CONTENT)
async def discard_candidate(
    _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> None:
    """Delete the candidate model (its shadow stops; what it counted is kept)."""
    identity = await runtime.models.discard()
    await audit.record("model.discard", "model", identity or "", {})
    await session.commit()
