"""The enabled cameras as the pipeline runs them (`CameraSpec`s), read from the database."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.config import PipelineConfig, Settings
from server.records.cameras import CameraSpec
from server.storage.models import Camera
from server.storage.settings import effective_settings
from shared.schemas.cameras import SourceKind


def camera_spec(camera: Camera, config: PipelineConfig, fps: float) -> CameraSpec:
    """The camera's spec; `fps` is the analysis rate of cameras that set none."""
    separate = camera.substream_url is not None and camera.substream_url != camera.source_url
    return CameraSpec(
        camera_id=camera.id,
        store_id=camera.store_id,
        kind=SourceKind(camera.source_kind),
        url=camera.substream_url or camera.source_url,
        evidence_url=camera.source_url if separate else None,
        analysis_fps=camera.analysis_fps or fps,
        analysis_width=camera.analysis_width or config.analysis_width,
    )


class DatabaseCameraCatalog:
    """The pipeline's `CameraCatalog`: the cameras table, with the analysis rate the admin
    set at run time for cameras that set none."""

    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]):
        self._settings, self._sessionmaker = settings, sessionmaker

    async def enabled(self) -> list[CameraSpec]:
        async with self._sessionmaker() as session:
            effective = await effective_settings(session=session, settings=self._settings)
            fps = effective.detection.analysis_fps
            rows = await session.scalars(select(Camera).where(Camera.enabled.is_(True)))
            return [camera_spec(c, self._settings.pipeline, fps) for c in rows]
