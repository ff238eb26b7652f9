#!/usr/bin/env bash
# Re-extract the app's strings into translations/messages.pot and merge them into the fr and es catalogues.
# New strings arrive with an empty msgstr (or marked fuzzy): translate them, then run the tests
# (tests/engagement/test_translations.py fails while any msgstr is empty or fuzzy). `make setup` compiles the .mo files.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-$( [ -x .venv/bin/pybabel ] && echo .venv/bin/pybabel || echo pybabel )}"

"$PYBABEL" -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
  --ignore-dirs=".* ._ node_modules .venv" --sort-by-file --width=120 \
  --project=engagement-survey --copyright-holder="Alliance 8.7 Secretariat" \
  -o translations/messages.pot .

for language in fr es; do
  if [ -f "translations/$language/LC_MESSAGES/messages.po" ]; then
    "$PYBABEL" -q update -i translations/messages.pot -d translations -l "$language" --width=120
  else
    "$PYBABEL" -q init -i translations/messages.pot -d translations -l "$language" --width=120
  fi
done

# Say what is left to translate, so nobody ships an English string to a French or Spanish partner.
"${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}" - <<'PY'
from babel.messages.pofile import read_po

for language in ("fr", "es"):
    with open(f"translations/{language}/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    todo = [m for m in catalog if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))]
    print(f"{language}: {len(todo)} message(s) to translate or review")
PY
