#!/usr/bin/env bash
# The app's text catalogue (mobile/i18n/locales), with Babel's pybabel:
#   infra/scripts/i18n.sh            extract every _(), ngettext() and N_() of mobile/ into the
#                                    template, merge it into each language's .po, then check
#   infra/scripts/i18n.sh check      only check that each .po compiles, and count what is left
#   infra/scripts/i18n.sh init LANG  start a catalogue for a new language (then add it to
#                                    mobile/i18n LANGUAGES)
# After a refresh, translate the entries with an empty msgstr and those marked `#, fuzzy`
# (a guess from a similar old string: check it and remove the mark);
# tests/mobile/test_i18n.py fails until every message of mobile/ has a translation.
# The app compiles the .po itself when it starts (mobile/i18n/catalogue.py): no .mo to commit.
set -euo pipefail
cd "$(dirname "$0")/../.."
pybabel=.venv/bin/pybabel
locales=mobile/i18n/locales
template=$locales/shopguard.pot

extract() {
    "$pybabel" --quiet extract --project=ShopGuard --copyright-holder=ShopGuard \
        --add-comments=Translators: --add-location=file --sort-by-file \
        --keyword=N_ --output-file="$template" mobile
}

update() {
    "$pybabel" --quiet update --domain=shopguard --input-file="$template" \
        --output-dir="$locales" --ignore-obsolete --previous
}

check() {
    local compiled
    compiled="$(mktemp -d)"
    trap 'rm -rf "$compiled"' RETURN
    for po in "$locales"/*/LC_MESSAGES/shopguard.po; do
        "$pybabel" compile --statistics --domain=shopguard --input-file="$po" \
            --output-file="$compiled/$(basename "$(dirname "$(dirname "$po")")").mo"
        if grep -q '^#, .*fuzzy' "$po"; then
            echo "$po: $(grep -c '^#, .*fuzzy' "$po") fuzzy entries to check" >&2
        fi
    done
}

case "${1:-refresh}" in
refresh)
    extract
    update
    check
    ;;
check) check ;;
init)
    "$pybabel" init --domain=shopguard --input-file="$template" --output-dir="$locales" \
        --locale="${2:?a language code, e.g. pt}"
    ;;
*)
    echo "usage: $0 [refresh|check|init LANG]" >&2
    exit 2
    ;;
esac
