"""Feed thumbnails, through real HTTP and the app's client: each listed alert with a snapshot
carries a signed link that opens without sign-in to a small JPEG (240 px wide) made from the
real snapshot once and kept beside it; links for many alerts come in one call, only for
alerts the caller may see; a changed link is refused."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from mobile.api.client import ApiClient
from mobile.api.evidence import thumbnail_links, thumbnail_src
from server.evidence.derived import read_whole, thumbnail_key
from server.evidence.thumbnails import THUMBNAIL_WIDTH, thumbnail_jpeg
from server.storage.models import Alert
from tests.conftest import TEST_DATA
from tests.evidence.test_share import Served, alert_with_evidence, served, signed_in
from tests.helpers import error_of

__all__ = ["served", "signed_in"]  # fixtures


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_listed_alerts_show_their_snapshot_as_a_small_jpeg_without_sign_in(
    served: Served, signed_in: dict[str, ApiClient], tmp_path: Path
) -> None:
    camera = served.world.cameras[0]
    made = await alert_with_evidence(served.runtime, camera, tmp_path / "a")
    no_snapshot = await alert_with_evidence(served.runtime, camera, tmp_path / "b", snapshot=False)
    client = signed_in["viewer_a"]
    page = await client.alerts()
    rows = {a.id: a for a in page.data}
    assert rows[no_snapshot.alert_id].thumbnail_url is None
    src = thumbnail_src(client, rows[made.alert_id])
    assert src is not None and src.startswith(served.address + "/api/v1/media/")
    again = await client.alerts()  # links made within the hour stay the same: caches hit
    assert {a.id: a.thumbnail_url for a in again.data} == {a.id: a.thumbnail_url for a in page.data}
    assert (await client.alert(made.alert_id)).thumbnail_url == rows[made.alert_id].thumbnail_url

    snapshot = picture(made.files["snapshot.jpg"])
    assert snapshot.size == (640, 360)
    async with httpx.AsyncClient() as phone:  # the image loader sends no Authorization header
        shown = await phone.get(src)
        assert shown.status_code == 200, shown.text
        assert shown.headers["content-type"] == "image/jpeg"
        assert shown.headers["cache-control"].startswith("private, max-age=")
        small = picture(shown.content)
        assert (small.format, small.size) == ("JPEG", (THUMBNAIL_WIDTH, 135))  # 16:9 kept
        assert len(shown.content) < 15_000 < len(made.files["snapshot.jpg"])
        # the snapshot itself, scaled: pixel for pixel close to the snapshot shrunk here
        expected = np.asarray(snapshot.convert("RGB").resize(small.size), np.float32)
        assert np.abs(np.asarray(small.convert("RGB"), np.float32) - expected).mean() < 6

        # made once and kept beside the snapshot: the next request reads it back
        async with served.runtime.sessionmaker() as session:
            alert = await session.get(Alert, made.alert_id)
            assert alert is not None and alert.snapshot_ref is not None
        kept = read_whole(served.runtime.clips.store, thumbnail_key(alert.snapshot_ref))
        assert kept == shown.content
        assert (await phone.get(src)).content == shown.content

        for forged in (
            src.replace("thumbnail.jpg", "snapshot.jpg"),  # a thumbnail link opens no snapshot
            src.replace(f"/media/{made.alert_id}/", f"/media/{no_snapshot.alert_id}/"),
            src[:-2] + ("00" if not src.endswith("00") else "11"),
        ):
            refused = await phone.get(forged)
            assert (refused.status_code, error_of(refused)["code"]) == (401, "unauthorized")


async def test_thumbnail_links_for_many_alerts_only_for_those_the_caller_sees(
    served: Served, signed_in: dict[str, ApiClient], tmp_path: Path
) -> None:
    store_a, store_b = served.world.cameras
    first = await alert_with_evidence(served.runtime, store_a, tmp_path / "1", clip=False)
    second = await alert_with_evidence(served.runtime, store_a, tmp_path / "2", clip=False)
    bare = await alert_with_evidence(served.runtime, store_a, tmp_path / "3", snapshot=False)
    elsewhere = await alert_with_evidence(served.runtime, store_b, tmp_path / "4", clip=False)
    asked = [second.alert_id, elsewhere.alert_id, 99_999, first.alert_id, bare.alert_id]

    links = await thumbnail_links(signed_in["viewer_a"], asked)
    assert list(links) == [second.alert_id, first.alert_id, bare.alert_id]  # order asked
    assert links[bare.alert_id] is None  # no snapshot yet
    async with httpx.AsyncClient() as phone:
        for made in (first, second):
            link = links[made.alert_id]
            assert link is not None
            shown = await phone.get(link)
            assert shown.status_code == 200, shown.text
            assert picture(shown.content).size == (THUMBNAIL_WIDTH, 135)
    admin_links = await thumbnail_links(signed_in["admin"], asked)
    assert list(admin_links) == [second.alert_id, elsewhere.alert_id, first.alert_id, bare.alert_id]

    async with httpx.AsyncClient(base_url=served.address, timeout=30) as http:
        bodies: list[dict[str, list[int]]] = [
            {"alert_ids": []},
            {"alert_ids": list(range(201))},
            {"ids": [1]},
        ]
        for body in bodies:
            refused = await http.post(
                "/api/v1/alerts/thumbnail-links", json=body, headers=served.world.headers["admin"]
            )
            assert (refused.status_code, error_of(refused)["code"]) == (422, "validation_error")
        anonymous = await http.post("/api/v1/alerts/thumbnail-links", json={"alert_ids": [1]})
        assert anonymous.status_code == 401


def test_thumbnail_jpeg_scales_down_keeps_the_aspect_and_never_scales_up() -> None:
    photo = (TEST_DATA / "zidane.jpg").read_bytes()  # 1280x720
    small = picture(thumbnail_jpeg(photo))
    assert (small.format, small.size) == ("JPEG", (240, 135))
    tall = picture(thumbnail_jpeg((TEST_DATA / "bus.jpg").read_bytes()))  # 810x1080
    assert tall.size == (240, 320)
    tiny = io.BytesIO()
    Image.new("RGB", (100, 50), (0, 128, 255)).save(tiny, format="PNG")
    assert picture(thumbnail_jpeg(tiny.getvalue())).size == (100, 50)  # not enlarged
    with pytest.raises(OSError):
        thumbnail_jpeg(b"not a picture")
