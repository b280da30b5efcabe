"""A new alert asks for attention: a short chime wherever audio plays (the web, desktops,
phones) and a vibration on phones. The chime is made here, so no sound file ships or loads.
Each device keeps its own choice of sound on or off."""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import wave

import flet as ft
import flet_audio as fa

from mobile.state.preferences import Preferences

SOUND_KEY = "sound"
RATE = 22_050
SIGNAL_TIMEOUT_S = 5.0  # a client that never answers must not pile up calls


def chime_wav(tones: tuple[float, ...] = (880.0, 660.0), tone_s: float = 0.18) -> bytes:
    """Two falling tones with soft edges, 16-bit mono WAV."""
    samples = bytearray()
    per_tone = int(RATE * tone_s)
    for pitch in tones:
        for i in range(per_tone):
            envelope = min(1.0, i / 400, (per_tone - i) / 900)
            value = int(12_000 * envelope * math.sin(2 * math.pi * pitch * i / RATE))
            samples += value.to_bytes(2, "little", signed=True)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(bytes(samples))
    return out.getvalue()


class Attention:
    def __init__(self, page: ft.Page, preferences: Preferences) -> None:
        self._page, self._preferences = page, preferences
        self.sound_on = True
        self.chime = fa.Audio(src=chime_wav(), volume=0.8)
        self._phone = not page.web and page.platform in (
            ft.PagePlatform.ANDROID,
            ft.PagePlatform.IOS,
        )
        self._haptics = ft.HapticFeedback() if self._phone else None
        self._signals: set[asyncio.Task[None]] = set()

    async def load(self) -> None:
        self.sound_on = await self._preferences.get(SOUND_KEY) != "off"

    async def set_sound(self, on: bool) -> None:
        self.sound_on = on
        await self._preferences.set(SOUND_KEY, "on" if on else "off")

    def new_alert(self) -> None:
        """Chime and vibrate without holding up the caller (the live events)."""
        task = asyncio.create_task(self._signal())
        self._signals.add(task)
        task.add_done_callback(self._signals.discard)

    async def close(self) -> None:
        for task in list(self._signals):
            task.cancel()
        await asyncio.gather(*self._signals, return_exceptions=True)

    async def _signal(self) -> None:
        if self.sound_on:
            with contextlib.suppress(Exception):  # no audio output, or a muted tab
                await asyncio.wait_for(self.chime.play(), SIGNAL_TIMEOUT_S)
        if self._haptics is not None:
            with contextlib.suppress(Exception):  # a phone without a vibrator
                await asyncio.wait_for(
                    self._haptics.heavy_impact(),  # type: ignore[no-untyped-call]
                    SIGNAL_TIMEOUT_S,
                )
