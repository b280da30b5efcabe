"""The video pipeline's live counters, for admins and supervisors."""

from fastapi import APIRouter

from server.api.deps import ReviewerUser, RuntimeDep
from server.pipeline.manager import stage_times
from shared.schemas.pipeline import PipelineStatsPublic

router = APIRouter(prefix="/pipeline", tags=["pipeline"])


@router.get("/stats")
async def read_pipeline_stats(principal: ReviewerUser, runtime: RuntimeDep) -> PipelineStatsPublic:
    """Per camera this server runs: status, analysed fps, packets, drops, ring buffer, errors."""
    rows = runtime.pipeline.stats(principal.store_scope)
    return PipelineStatsPublic(
        enabled=runtime.pipeline.enabled,
        analysis_error=runtime.pipeline.analysis_error,
        behaviour_error=runtime.pipeline.behaviour_error,
        pose_workers=runtime.pipeline.pose_stats(),
        analytics=stage_times(runtime.analytics.cost) if runtime.analytics.cost.count else None,
        cameras=rows,
        count=len(rows),
    )
