"""Camera URLs leave the server with every credential masked, however the DVR spells them."""

import pytest

from server.security.redact import has_credentials, redact_url


@pytest.mark.parametrize(
    ("url", "masked", "secret"),
    [
        ("rtsp://admin:pw@10.0.0.2/ch1", "rtsp://admin:***@10.0.0.2/ch1", True),
        ("rtsp://10.0.0.2:554/ch1", "rtsp://10.0.0.2:554/ch1", False),  # nothing to hide
        ("rtsp://admin@10.0.0.2/ch1", "rtsp://admin@10.0.0.2/ch1", False),  # user, no password
        # raw special characters in the password: the user info ends at the last @
        ("rtsp://admin:Ab#12345@192.168.1.20/ch1", "rtsp://admin:***@192.168.1.20/ch1", True),
        ("rtsp://admin:a/b?c@192.168.1.20/ch1", "rtsp://admin:***@192.168.1.20/ch1", True),
        ("rtsp://admin:p@ss@192.168.1.20/ch1", "rtsp://admin:***@192.168.1.20/ch1", True),
        # credentials as pairs in the query, the path, or after ;
        ("http://cam/snap.cgi?user=a&password=x1", "http://cam/snap.cgi?user=a&password=***", True),
        (
            "rtsp://10.0.0.2:554/user=admin&password=S3cret&channel=1&stream=0.sdp",
            "rtsp://10.0.0.2:554/user=admin&password=***&channel=1&stream=0.sdp",
            True,
        ),
        ("rtsp://cam/live;pwd=abc;chn=1", "rtsp://cam/live;pwd=***;chn=1", True),
        ("http://cam/v?token=t0k3n", "http://cam/v?token=***", True),
        ("rtsp://u:p@[fe80::1]/ch{channel}", "rtsp://u:***@[fe80::1]/ch{channel}", True),
        ("/srv/video/entrance.mp4", "/srv/video/entrance.mp4", False),  # a file path
        ("rtsp://cam/keyframe=1", "rtsp://cam/keyframe=1", False),  # `key` inside a word
        ("rtsp://u:p@[broken/ch1", "rtsp://u:***@[broken/ch1", True),  # never raises
    ],
)
def test_masking(url: str, masked: str, secret: bool) -> None:
    assert redact_url(url) == masked
    assert has_credentials(url) is secret
