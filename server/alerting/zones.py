"""⑦ zones: which of a camera's zones a person's hands or feet are in.

Zones are polygons in fractions of the picture (0..1, origin top left), so they hold at
any resolution. Hands count first (concealment happens at a shelf), then feet. A hand or
foot in an `ignore` zone (a staff area, a mirror, a poster with people on it) suppresses
the person altogether.

Example:
    >>> zones = CameraZones.of([Zone(name="Shelf A", kind="shelf", polygon=[...])])
    >>> place = zones.locate(keypoints, keypoint_conf, width=1920, height=1080)
    >>> place.ignored, place.zone  # False, Zone(name="Shelf A", ...) or None
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from server.behaviour.geometry import ANKLES, WRISTS
from shared.schemas.cameras import Zone, ZoneKind

MIN_CONF = 0.3  # keypoints under this confidence are not placed in any zone


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a person is: `zone` is None when no hand or foot is in a zone."""

    zone: Zone | None
    ignored: bool  # a hand or foot is in an ignore zone: raise nothing for this person

    @property
    def name(self) -> str:
        """The zone's name, "" when none (the dedup key's zone part)."""
        return self.zone.name if self.zone is not None else ""


NOWHERE = Placement(None, False)


@dataclass(frozen=True, slots=True)
class CameraZones:
    """A camera's zones, prepared for point tests."""

    zones: tuple[Zone, ...]
    shapes: tuple[shapely.Polygon, ...]

    @classmethod
    def of(cls, zones: Sequence[Zone]) -> CameraZones:
        shapes = tuple(shapely.Polygon(z.polygon) for z in zones)
        for shape in shapes:
            shapely.prepare(shape)
        return cls(tuple(zones), shapes)

    def locate(
        self,
        keypoints: npt.NDArray[np.float32],
        keypoint_conf: npt.NDArray[np.float32],
        *,
        width: int,
        height: int,
    ) -> Placement:
        """The zone of one person (COCO-17 `keypoints` (17, 2) in pixels of a `width` x
        `height` picture)."""
        if not self.zones or width <= 0 or height <= 0:
            return NOWHERE
        scale = np.asarray([width, height], np.float64)
        hands, feet = (
            keypoints[list(joints)][keypoint_conf[list(joints)] >= MIN_CONF] / scale
            for joints in (WRISTS, ANKLES)
        )
        found: dict[str, Zone | None] = {"hands": None, "feet": None}
        for zone, shape in zip(self.zones, self.shapes, strict=True):
            for part, points in (("hands", hands), ("feet", feet)):
                if len(points) == 0 or not shapely.contains_xy(shape, points).any():
                    continue
                if zone.kind is ZoneKind.ignore:
                    return Placement(zone, True)
                found[part] = found[part] or zone
        return Placement(found["hands"] or found["feet"], False)
