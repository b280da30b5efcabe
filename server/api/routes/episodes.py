"""Labelled episodes: missed thefts marked by supervisors and admins, and the list of what
the store's reviews have kept as training data."""

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Query, status

from server.api.deps import AuditDep, ReviewerUser, RuntimeDep, SessionDep
from server.errors import Conflict
from server.storage import cameras, labelled_episodes
from server.storage.models import utcnow
from shared.schemas.episodes import (
    EpisodeLabel,
    EpisodeSource,
    LabelledEpisodePublic,
    LabelledEpisodesPublic,
    MissedTheftCreate,
)

router = APIRouter(tags=["labelled episodes"])


@router.post("/cameras/{camera_id}/missed-thefts", status_code=status.HTTP_201_CREATED)
async def mark_missed_theft(
    camera_id: int,
    body: MissedTheftCreate,
    principal: ReviewerUser,
    session: SessionDep,
    runtime: RuntimeDep,
    audit: AuditDep,
) -> LabelledEpisodePublic:
    """Mark a theft the camera did not alert on; its people's poses are kept as a theft.
    409 `poses_gone` once the span's poses are no longer kept (`pose_tracks.keep_hours`)."""
    camera = await cameras.get_camera(
        session=session, camera_id=camera_id, store_ids=principal.store_scope
    )
    start, end = body.start.astimezone(UTC), body.end.astimezone(UTC)
    episode = await runtime.pose_tracks.mark_missed_theft(
        session=session,
        camera=camera,
        start=start,
        end=end,
        user_id=principal.user.id,
        notes=body.notes,
        now=utcnow(),
    )
    await audit.record(
        "missed_theft.mark",
        "labelled_episode",
        episode.id,
        {"camera_id": camera.id, "start": start.isoformat(), "end": end.isoformat()},
    )
    await session.commit()
    await session.refresh(episode, attribute_names=["created_by"])
    return labelled_episodes.episode_public(episode)


@router.get("/labelled-episodes")
async def list_labelled_episodes(
    principal: ReviewerUser,
    session: SessionDep,
    camera_id: int | None = None,
    label: EpisodeLabel | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> LabelledEpisodesPublic:
    """Episodes kept as training data in your stores, newest first."""
    rows, count = await labelled_episodes.list_episodes(
        session=session,
        store_ids=principal.store_scope,
        camera_id=camera_id,
        label=label,
        limit=limit,
    )
    return LabelledEpisodesPublic(
        data=[labelled_episodes.episode_public(e) for e in rows], count=count
    )


@router.delete("/labelled-episodes/{episode_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_labelled_episode(
    episode_id: int, principal: ReviewerUser, session: SessionDep, audit: AuditDep
) -> None:
    """Withdraw a missed-theft mark (a reviewed alert's episode follows its review instead)."""
    episode = await labelled_episodes.get_episode(
        session=session, episode_id=episode_id, store_ids=principal.store_scope
    )
    if episode.source != EpisodeSource.missed_theft.value:
        raise Conflict(
            f"labelled episode {episode_id} comes from alert {episode.alert_id}'s review: "
            "change the review instead"
        )
    await audit.record("missed_theft.delete", "labelled_episode", episode.id)
    await session.delete(episode)  # its file goes with the next retention pass
    await session.commit()
