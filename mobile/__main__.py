"""`python -m mobile` runs the app on the desktop; `python -m mobile --web [--port N]` serves
it to browsers (offline: the web client is served from the flet-web package, no CDN)."""

from __future__ import annotations

import argparse
import os

import flet as ft

from mobile.app import main


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ShopGuard app")
    parser.add_argument("--web", action="store_true", help="serve the app to browsers")
    parser.add_argument("--port", type=int, default=8550)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    os.environ.setdefault("FLET_WEB_NO_CDN", "1")
    if args.web:
        ft.run(main, view=ft.AppView.WEB_BROWSER, host=args.host, port=args.port, no_cdn=True)
    else:
        ft.run(main)


if __name__ == "__main__":
    run()
