"""Entry point of the built app (`flet build` runs `main.py`)."""

import flet as ft

from mobile.app import main

ft.run(main)
