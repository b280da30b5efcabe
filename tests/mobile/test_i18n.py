"""The app's languages: every message of mobile/ has its Spanish translation with the same
placeholders, dates and numbers follow the language, a Spanish session's sign-in screen is
in Spanish, and the server's errors arrive in the app's words by their `code`."""

from __future__ import annotations

import ast
import string
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import flet as ft
import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mobile.api.client import ApiClient
from mobile.api.errors import CODES, Rejected, ServerFailed, SignedOut, server_error
from mobile.i18n import SOURCE, _, catalogue, formats, language, ngettext, set_language
from mobile.i18n.choice import LANGUAGE_KEY, choose_language
from mobile.state.preferences import MemoryPreferences
from mobile.ui.language_choice import DEVICE, LanguageChoice
from tests.helpers import ADMIN_PASSWORD
from tests.mobile.conftest import Served
from tests.mobile.flet_session import running_app

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ("es",)
REFRESH = "run infra/scripts/i18n.sh, then translate the new entries of the .po"


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """The language is the process's: leave it as the other tests expect it."""
    yield
    set_language(SOURCE)


def in_source() -> dict[str | tuple[str, ...], str]:
    """Every message the code of mobile/ marks (`_`, `ngettext`, `N_`), and where."""
    found: dict[str | tuple[str, ...], str] = {}
    for filename, line, message, *_rest in extract_from_dir(ROOT / "mobile"):
        key = message if isinstance(message, str) else tuple(message)
        found.setdefault(key, f"mobile/{filename}:{line}")
    return found


def po(language_code: str) -> Catalog:
    with catalogue.po_path(language_code).open("rb") as file:
        return read_po(file, locale=language_code)


def fields(text: str) -> set[str]:
    """The `{placeholders}` of a str.format template, with their format specs."""
    return {
        f"{name}:{spec}" if spec else name
        for _text, name, spec, _conversion in string.Formatter().parse(text)
        if name is not None
    }


def forms(message: Message) -> list[tuple[str, str]]:
    """(msgid, msgstr) of each form: a plural's forms against its plural msgid."""
    if isinstance(message.id, str):
        assert isinstance(message.string, str)
        return [(message.id, message.string)]
    singular, plural = message.id[0], message.id[1]
    assert isinstance(message.string, tuple | list)
    return [(singular if i == 0 else plural, text) for i, text in enumerate(message.string)]


@pytest.mark.parametrize("language_code", TRANSLATED)
def test_every_message_of_the_app_is_translated(language_code: str) -> None:
    translations = po(language_code)
    untranslated = []
    for key, where in in_source().items():
        message = translations.get(key if isinstance(key, str) else key[0])
        if message is None or message.fuzzy or not all(text for _id, text in forms(message)):
            untranslated.append(f"{where}: {key!r}")
    assert not untranslated, f"{REFRESH}; not translated:\n" + "\n".join(untranslated)
    template = ROOT / "mobile/i18n/locales/shopguard.pot"
    with template.open("rb") as file:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(file) if m.id}
    written = {k if isinstance(k, str) else k[0] for k in in_source()}
    assert written <= extracted, f"the template is out of date: {REFRESH}"


@pytest.mark.parametrize("language_code", TRANSLATED)
def test_translations_keep_the_placeholders(language_code: str) -> None:
    wrong = [
        f"{msgid!r} → {text!r}"
        for message in po(language_code)
        if message.id
        for msgid, text in forms(message)
        if text and fields(msgid) != fields(text)
    ]
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_the_language_comes_from_its_tag() -> None:
    assert (set_language("es-MX"), language()) == ("es", "es")
    assert _("Sign in") == "Iniciar sesión" and formats.number(1234.5) == "1,234.5"  # Mexico
    alerts = [ngettext("{n} alert", "{n} alerts", n).format(n=n) for n in (0, 1, 2)]
    assert alerts == ["0 alertas", "1 alerta", "2 alertas"]
    assert set_language("es_ES") == "es" and formats.number(12_345.5) == "12.345,5"
    assert set_language("fr-FR") == "en" and _("Sign in") == "Sign in"  # no French yet
    assert set_language("") == "en"


def test_dates_and_numbers_follow_the_language() -> None:
    now = datetime(2026, 12, 7, 14, 5, tzinfo=UTC)
    monday = date(2026, 12, 7)
    afternoon = datetime(2026, 12, 7, 14, 5).astimezone()  # the device's time zone
    assert formats.ago(now - timedelta(minutes=2), now) == "2 minutes ago"
    assert formats.day_label(monday) == "Mon 7"
    assert (formats.number(1234.5), formats.percent(0.453)) == ("1,234.5", "45%")
    assert (formats.duration(3_720), formats.duration(45)) == ("1h 2m", "45s")
    set_language("es")
    assert formats.ago(now - timedelta(minutes=2), now) == "hace 2 minutos"
    assert formats.ago(now - timedelta(hours=3), now) == "hace 3 horas"
    assert formats.day_label(monday) == "lun 7"
    assert formats.number(12_345.5) == "12.345,5"
    assert formats.number(0.5, 2) == "0,50"
    assert formats.percent(0.453) == "45\u00a0%"
    assert (formats.duration(3_720), formats.duration(0)) == ("1h 2min", "0s")
    assert formats.when(afternoon) == "7 dic, 14:05"
    set_language("en")
    assert formats.when(afternoon) == "Dec 7, 2:05\u202fPM"  # a narrow no-break space


async def test_a_spanish_session_signs_in_in_spanish() -> None:
    chosen = MemoryPreferences({LANGUAGE_KEY: "es"})
    async with running_app(chosen) as ui:
        login = ui.app.login
        assert login is not None
        assert ui.shows("Dirección del servidor") and ui.shows("Iniciar sesión")
        assert (login.username.label, login.password.label) == ("Usuario", "Contraseña")
        assert not ui.shows("Server address")
        settings = ui.page.locale_configuration
        assert settings is not None and settings.current_locale is not None
        assert settings.current_locale.language_code == "es"
        login.address.value = ""
        await ui.click(login.check)
        assert login.result.value.startswith("escribe la dirección del servidor")


async def test_the_device_language_is_the_default() -> None:
    async with running_app(device_locale="es-AR") as ui:
        assert ui.shows("Dirección del servidor")
        settings = ui.page.locale_configuration
        assert settings is not None and settings.current_locale is not None
        assert (settings.current_locale.language_code, settings.current_locale.country_code) == (
            "es",
            "AR",
        )
    chosen = MemoryPreferences({LANGUAGE_KEY: "en"})  # chosen in Settings over the device's
    async with running_app(chosen, device_locale="es-AR") as ui:
        assert ui.shows("Server address")
        assert await choose_language(ui.page, MemoryPreferences()) == "es"
    chosen = MemoryPreferences({LANGUAGE_KEY: "es"})  # in the device's region
    async with running_app(chosen, device_locale="es-MX") as ui:
        assert ui.shows("Dirección del servidor") and formats.number(1234.5) == "1,234.5"


async def test_settings_choose_the_language_over_the_devices() -> None:
    async with running_app(device_locale="en-GB") as ui:
        remade: list[str] = []

        async def remake() -> None:
            remade.append(language())

        choice = LanguageChoice(ui.page, ui.preferences, remake)
        ui.page.add(choice.control)
        await choice.load()
        assert choice.control.value == DEVICE and choice.control.label == "Language"
        await ui.select(choice.control, "es")
        assert (ui.preferences.values[LANGUAGE_KEY], remade) == ("es", ["es"])
        settings = ui.page.locale_configuration
        assert settings is not None and settings.current_locale == ft.Locale("es")
        assert LanguageChoice(ui.page, ui.preferences, remake).control.label == "Idioma"
        await ui.select(choice.control, DEVICE)  # back to the device's: British English
        assert (ui.preferences.values[LANGUAGE_KEY], remade) == ("", ["es", "en"])
        assert formats.when(datetime(2026, 12, 7, 14, 5).astimezone()) == "7 Dec, 14:05"


def test_numbers_are_read_as_typed_in_the_language() -> None:
    set_language("es")
    assert formats.read_number("0,8") == formats.read_number("0.8") == 0.8
    assert (formats.plain(1500.25), formats.read_number(formats.plain(1500.25))) == (
        "1500,25",
        1500.25,
    )
    with pytest.raises(ValueError):
        formats.read_number("1,2,3")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_server_errors_arrive_in_the_apps_words(served: Served) -> None:
    client = ApiClient(served.address)
    try:
        set_language("es")
        with pytest.raises(Rejected) as refused:
            await client.login("admin", "not-the-password")
        assert refused.value.message.startswith("Usuario o contraseña incorrectos")
        assert "wrong username or password" in refused.value.detail  # the server's words
        await client.login("admin", ADMIN_PASSWORD)
        with pytest.raises(Rejected) as missing:
            await client.alert(987_654)
        assert (missing.value.status, missing.value.code) == (404, "not_found")
        assert missing.value.message == _(CODES["not_found"])
        assert missing.value.message.startswith("No se encontró")
        with pytest.raises(Rejected) as invalid:
            await client.alerts(limit=100_000)  # past the server's limit: a field's problem
        assert invalid.value.code == "validation_error"
        assert invalid.value.message == "limit: demasiado grande"

        set_language("en")  # English keeps the server's own, more precise words
        with pytest.raises(Rejected, match=r"^alert 987654 not found$"):
            await client.alert(987_654)
        client.tokens = None
        with pytest.raises(SignedOut, match=r"^sign in first$"):
            await client.cameras()
    finally:
        await client.aclose()


def server_codes() -> set[str]:
    """Every `code` the server can put in an error: the error classes' own, the handlers'
    literals and the HTTP status codes'."""
    codes: set[str] = set()
    for source in (ROOT / "server").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if (
                        isinstance(item, ast.Assign)
                        and [getattr(t, "id", None) for t in item.targets] == ["code"]
                        and isinstance(item.value, ast.Constant)
                    ):
                        codes.add(str(item.value.value))
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "error_response":
                if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                    codes.add(str(node.args[1].value))
            elif isinstance(node, ast.Assign) and [
                getattr(t, "id", None) for t in node.targets
            ] == ["HTTP_CODES"]:
                assert isinstance(node.value, ast.Dict)
                codes |= {str(v.value) for v in node.value.values if isinstance(v, ast.Constant)}
    return codes


def test_every_server_error_code_has_the_apps_words() -> None:
    codes = server_codes()
    assert {"not_found", "validation_error", "too_many_attempts", "internal_error"} <= codes
    missing = sorted(codes - set(CODES))
    assert not missing, f"add a wording to CODES in mobile/api/errors.py for: {missing}"


def test_an_unknown_code_keeps_the_servers_words() -> None:
    set_language("es")
    unknown = server_error(409, "a_code_from_a_newer_server", "the server's own words", [])
    assert (type(unknown), unknown.message) == (Rejected, "the server's own words")
    busy = server_error(503, "server_busy", "the server is busy; retry soon", [])
    assert (type(busy), busy.message) == (
        ServerFailed,
        "El servidor está ocupado. Vuelve a intentarlo en un momento.",
    )


def test_the_staged_app_speaks_spanish(tmp_path: Path) -> None:
    """What `flet build` packages holds the catalogues, compiled when the app starts."""
    staged = tmp_path / "app-src"
    subprocess.run([ROOT / "infra/scripts/build_app.sh", "--stage-only", staged], check=True)
    assert (staged / "mobile/i18n/locales/es/LC_MESSAGES/shopguard.po").is_file()
    speak = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from mobile.i18n import _, set_language; set_language('es'); print(_('Sign in'))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", speak, str(staged)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert done.stdout.strip() == "Iniciar sesión"
