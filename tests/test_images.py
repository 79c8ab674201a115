"""Images from URLs and uploads (R9): SSRF guards, the streamed 3 MB cap, the format by the bytes."""

import socket
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from channels_tiktok import constants
from channels_tiktok.messaging.images import ImageError, fetch_image, read_upload, sniff_format
from tests.image_server import GIF, JPEG, PNG

CAP = constants.MAX_IMAGE_BYTES


@pytest.fixture
def allow_loopback(settings):
    settings.IMAGE_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]


def refused(url, **kwargs) -> str:
    with pytest.raises(ImageError) as info:
        fetch_image(url, **kwargs)
    return info.value.code


def test_sniff_format_by_magic_bytes():
    assert sniff_format(JPEG) == "jpeg"
    assert sniff_format(PNG) == "png"
    assert sniff_format(GIF) is None
    assert sniff_format(b"") is None


@pytest.mark.usefixtures("allow_loopback")
def test_fetches_a_png_from_an_allowed_host(image_server):
    image_server.routes["/cat.png"] = ("body", PNG, {"Content-Type": "image/png"})
    image = fetch_image(image_server.url("/cat.png"))
    assert image.format == "png"
    assert image.content == PNG
    assert image.content_type == "image/png"
    assert image_server.requests[0]["host"] == f"127.0.0.1:{image_server.port}"


def test_loopback_is_refused_without_the_setting(image_server):
    image_server.routes["/cat.png"] = ("body", PNG)
    assert refused(image_server.url("/cat.png")) == "image_url_forbidden"
    assert refused(image_server.url("/cat.png", host="localhost")) == "image_url_forbidden"
    assert image_server.requests == []  # refused before connecting


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.7/a.png",
        "http://192.168.1.1/a.png",
        "http://172.16.0.1/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/a.png",
        "http://0.0.0.0/a.png",
        "http://[::1]/a.png",
        "http://[fd00::1]/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://240.0.0.1/a.png",
        "https://127.0.0.1/a.png",
    ],
)
def test_private_reserved_and_loopback_addresses_are_refused(url):
    assert refused(url) == "image_url_forbidden"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.png", "file:///etc/passwd", "http:///a.png", "http://user:pw@example.com/a.png", "x"]
)
def test_only_plain_http_urls(url):
    assert refused(url) == "image_url_invalid"


@pytest.mark.usefixtures("allow_loopback")
def test_redirect_to_a_private_address_is_refused(image_server):
    image_server.routes["/r"] = ("redirect", "http://169.254.169.254/latest/meta-data/")
    assert refused(image_server.url("/r")) == "image_url_forbidden"
    # localhost is the same machine but not an allowed host: each hop is checked on its own.
    image_server.routes["/r2"] = ("redirect", image_server.url("/cat.png", host="localhost"))
    image_server.routes["/cat.png"] = ("body", PNG)
    assert refused(image_server.url("/r2")) == "image_url_forbidden"
    assert [r["path"] for r in image_server.requests] == ["/r", "/r2"]


@pytest.mark.usefixtures("allow_loopback")
def test_redirects_are_followed_up_to_three(image_server):
    image_server.routes["/img.png"] = ("body", PNG)
    for n in range(1, 5):
        image_server.routes[f"/hop{n}"] = ("redirect", "/img.png" if n == 1 else f"/hop{n - 1}")
    assert fetch_image(image_server.url("/hop3")).format == "png"
    assert refused(image_server.url("/hop4")) == "image_too_many_redirects"


@pytest.mark.usefixtures("allow_loopback")
def test_exactly_3_mb_is_accepted(image_server):
    image_server.routes["/big.png"] = ("body", PNG + b"\x00" * (CAP - len(PNG)))
    assert fetch_image(image_server.url("/big.png")).size == CAP


@pytest.mark.usefixtures("allow_loopback")
def test_declared_size_over_the_cap_is_refused_without_reading(image_server):
    image_server.routes["/big.png"] = ("body", PNG + b"\x00" * (CAP + 1 - len(PNG)))
    assert refused(image_server.url("/big.png")) == "image_too_large"


@pytest.mark.usefixtures("allow_loopback")
def test_undeclared_stream_stops_at_cap_plus_one(image_server):
    # The server sends 3 MB + 1 byte and then hangs for 3 s without closing: a client reading to the end would
    # wait for the timeout; ours stops at the cap + 1 byte.
    image_server.routes["/stream.png"] = ("stall", CAP + 1, 3)
    started = time.monotonic()
    assert refused(image_server.url("/stream.png"), timeout=5) == "image_too_large"
    assert time.monotonic() - started < 2


@pytest.mark.usefixtures("allow_loopback")
def test_undeclared_stream_of_exactly_3_mb_is_accepted(image_server):
    image_server.routes["/stream.png"] = ("stall", CAP, 0)
    assert fetch_image(image_server.url("/stream.png"), timeout=5).size == CAP


@pytest.mark.usefixtures("allow_loopback")
def test_png_named_jpg_is_sent_as_png(image_server):
    image_server.routes["/photo.jpg"] = ("body", PNG, {"Content-Type": "image/jpeg"})
    image = fetch_image(image_server.url("/photo.jpg"))
    assert image.format == "png"
    assert image.filename == "image.png"


@pytest.mark.usefixtures("allow_loopback")
def test_gif_named_png_is_refused(image_server):
    image_server.routes["/anim.png"] = ("body", GIF, {"Content-Type": "image/png"})
    assert refused(image_server.url("/anim.png")) == "image_format_unsupported"


@pytest.mark.usefixtures("allow_loopback")
def test_jpeg_is_accepted(image_server):
    image_server.routes["/a"] = ("body", JPEG, {"Content-Type": "application/octet-stream"})
    assert fetch_image(image_server.url("/a")).format == "jpeg"


@pytest.mark.usefixtures("allow_loopback")
def test_not_found_and_timeouts_fail_with_their_own_code(image_server):
    assert refused(image_server.url("/missing.png")) == "image_fetch_failed"
    image_server.routes["/slow.png"] = ("stall", 0, 3)
    started = time.monotonic()
    assert refused(image_server.url("/slow.png"), timeout=0.5) == "image_fetch_failed"
    assert time.monotonic() - started < 2


@pytest.mark.usefixtures("allow_loopback")
def test_connection_refused(image_server):
    port = image_server.port
    image_server.close()
    assert refused(f"http://127.0.0.1:{port}/a.png") == "image_fetch_failed"


def test_connects_to_the_address_it_checked(image_server, settings, monkeypatch):
    """The host is resolved once per hop and the connection goes to that address (no DNS rebinding)."""
    settings.IMAGE_FETCH_ALLOWED_HOSTS = ["images.example"]
    image_server.routes["/cat.png"] = ("body", PNG)
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, *args, **kwargs):
        if host == "images.example":
            lookups.append(host)
            return real_getaddrinfo("127.0.0.1", *args, **kwargs)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    image = fetch_image(f"http://images.example:{image_server.port}/cat.png")
    assert image.format == "png"
    assert lookups == ["images.example"]
    assert image_server.requests[0]["host"] == f"images.example:{image_server.port}"


def test_a_host_with_any_private_address_is_refused(monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert refused("http://mixed.example/a.png") == "image_url_forbidden"


# --- uploads
def test_upload_png_named_jpg_is_png():
    image = read_upload(SimpleUploadedFile("photo.jpg", PNG, content_type="image/jpeg"))
    assert image.format == "png"


def test_upload_gif_is_refused():
    with pytest.raises(ImageError) as info:
        read_upload(SimpleUploadedFile("anim.png", GIF, content_type="image/png"))
    assert info.value.code == "image_format_unsupported"


def test_upload_size_boundary():
    assert read_upload(SimpleUploadedFile("a.jpg", JPEG + b"\x00" * (CAP - len(JPEG)))).size == CAP
    with pytest.raises(ImageError) as info:
        read_upload(SimpleUploadedFile("a.jpg", JPEG + b"\x00" * (CAP + 1 - len(JPEG))))
    assert info.value.code == "image_too_large"


@pytest.mark.usefixtures("allow_loopback")
@pytest.mark.parametrize(("route", "what"), [(("drip", 0.2, 40), "body"), (("drip_headers", 0.2), "headers")])
def test_a_server_dripping_bytes_is_cut_at_the_total_deadline(image_server, route, what):
    """One byte every 0.2 s: each read succeeds well within its timeout, the whole (8 s for the body's 40 bytes)
    does not end within the fetch's 1 s."""
    image_server.routes["/drip.png"] = route
    started = time.monotonic()
    with pytest.raises(ImageError) as info:
        fetch_image(image_server.url("/drip.png"), timeout=1.0)
    elapsed = time.monotonic() - started
    assert info.value.code == "image_fetch_failed"
    assert elapsed < 2.0, f"the {what} drip held the fetch {elapsed:.1f} s"
