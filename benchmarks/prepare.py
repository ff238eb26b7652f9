"""Prepare a benchmark round with the code of the checkout this runs in, and print it as one JSON line.

    PYTHONPATH=CHECKOUT python benchmarks/prepare.py DATABASE.sqlite PARTNERS     (cwd: CHECKOUT)

Run by benchmarks/common.py (`prepare_checkout`) for the current checkout and for a baseline worktree alike: each
round is made by that checkout's own `benchmarks/common.py` (`prepare_round`), and the partners' links come from
its `invitations export` command, so the benchmark drives both over HTTP with nothing but their links. Uses only
what every checkout since 9eca3a1 offers.
"""

import csv
import json
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit


def main() -> int:
    database_path, partners = Path(sys.argv[1]), int(sys.argv[2])
    from benchmarks import common  # the checkout's own, from PYTHONPATH

    url = f"sqlite:///{database_path}"
    database = common.Database(url=url, sqlalchemy_url=url, path=database_path)
    setup = common.prepare_round(database, partners)
    out = Path(tempfile.mkdtemp(prefix="prepare-")) / "invitations.csv"
    result = common.make_app(database).test_cli_runner().invoke(
        args=["invitations", "export", str(setup.round_id), "--out", str(out)])
    if result.exit_code != 0:
        print(result.output, file=sys.stderr)
        return 1
    with out.open(encoding="utf-8") as stream:
        links = [urlsplit(row["link"]).path for row in csv.DictReader(stream)]
    out.unlink()
    out.parent.rmdir()
    code = {name: sys.modules[name].__file__ for name in ("engagement", "wsgi", "benchmarks.common")}
    print(json.dumps({"round_id": setup.round_id, "links": links, "code": code}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
