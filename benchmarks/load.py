"""Deadline-day load test: many partners answer at once through gunicorn; a checker then compares the database
with what the server acknowledged.

    python benchmarks/load.py --partners 200 --workers 4 --database sqlite
    python benchmarks/load.py --partners 200 --workers 4 --database postgresql --kill-worker

Each simulated partner (its own cookie jar, like a browser tab) opens the welcome page, starts, and on every page
autosaves each shown answer (htmx POST with the page's CSRF token; some answers are changed a second time), then
posts the page form with action=next (a random half of its answers, the rest stay as stored), and finally submits.
Some partners double-click submit (two concurrent POSTs from one tab); some have their link open in a second tab
that saves the same questions at the same moment as the first tab, then submits too. Like the page's JavaScript,
the client retries a save that failed (no answer, a 5xx, a 429) with a growing delay.

What counts as "acknowledged", and the rule the checker applies
---------------------------------------------------------------
* An autosave is acknowledged by a 200; a page save by a 303 to the next page or the review (not to the receipt,
  which means the response had been submitted by then and nothing was saved). A 409/422 to an autosave means the
  server refused it and stored nothing. A save whose outcome is unknown (retries exhausted, or a page answered 422,
  which stores the valid answers it carried) may or may not have been committed.
* The server's commit order is the truth. A save was committed somewhere between the moment its first attempt was
  sent and the moment its acknowledgement was received. For each (response, question) the checker takes the
  acknowledged save received last (L) and accepts as the stored value L's value or the value of any other save
  (acknowledged or of unknown outcome) whose [sent, received] interval ends after L was sent, since such a save may
  have committed after L. A cleared answer (None) means no row. An answer whose question is hidden by the stored
  answers may be missing (the server drops hidden answers when the partner leaves a page or submits).
* Every (response, question) has at most one row (a unique constraint; still counted), every invitation at most one
  response, every partner that reached the receipt has a submitted response whose submitted_at lies within its
  submit requests, and no answer changed after its response was submitted.
* Failures reported: lost or wrong answers, duplicate rows, any 5xx reaching a partner (503 "could not save" counts:
  the client retried it, as the page does, but it is reported), partners who could not finish.

With --kill-worker one gunicorn worker is SIGKILLed once a third of the expected saves are acknowledged: the
requests it was serving fail, the client retries them, gunicorn's master starts a new worker, and every answer
acknowledged before the kill must still be there (checked by the same rule, and counted separately).

Only 127.0.0.1 is contacted; the run is bounded by --time-limit.
"""

import argparse
import asyncio
import concurrent.futures
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.common import (
    Database,
    Invited,
    Server,
    Setup,
    csrf_from,
    fresh_database,
    gunicorn_settings,
    make_app,
    prepare_round,
)

RETRIES = 8
REFERENCE = re.compile(r"\$\{(\w+)\}")


class GaveUp(Exception):
    """A request still failed after every retry."""


@dataclass
class Save:
    """One attempt to store a value (None clears) for a question, as the client saw it."""

    tab: str
    via: str  # autosave or page
    value: str | None
    sent: float
    received: float = 0.0
    outcome: str = "unknown"  # ack, refused or unknown


@dataclass
class Journal:
    """Everything the clients sent and what the server said, for the checker."""

    saves: dict = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )  # token -> question -> [Save]
    submits: dict = field(default_factory=lambda: defaultdict(list))  # token -> [(sent, received, status)]
    receipts: set = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    server_errors: list = field(default_factory=list)  # (status, method, path)
    connection_errors: int = 0
    retried: int = 0
    unfinished: list = field(default_factory=list)  # (token, reason)
    acknowledged: int = 0
    kill_time: float | None = None
    killed_pid: int | None = None
    entries: dict = field(default_factory=lambda: defaultdict(list))  # token -> ids of entries whose add was acked
    add_retries: Counter = field(default_factory=Counter)  # token -> "add an entry" requests sent again


class Tab:
    """One browser tab: its own cookies, the CSRF token of the last page it read, retries like the page's JS."""

    def __init__(self, base: str, token: str, name: str, journal: Journal, rng: random.Random):
        self.client = httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False)
        self.token = token
        self.name = name
        self.journal = journal
        self.rng = rng
        self.csrf: str | None = None
        self.attempts = 0  # how many times the last request was sent (more than once: retried)

    async def close(self):
        await self.client.aclose()

    async def request(self, method: str, url: str, data=None, htmx: bool = False, files=None) -> httpx.Response:
        headers = {}
        body = None
        if files is not None:  # multipart, as a browser sends a file: httpx writes the body and its boundary
            multipart = httpx.Request(method, "http://x", data=dict(data or {}), files=files)
            body = multipart.read()
            headers["Content-Type"] = multipart.headers["Content-Type"]
        elif data is not None:
            body = urlencode(list(data.items()) if isinstance(data, dict) else data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if htmx:
            headers["HX-Request"] = "true"
        if method == "POST" and self.csrf:
            headers["X-CSRFToken"] = self.csrf
        delay = 0.1
        for attempt in range(RETRIES):
            self.attempts = attempt + 1
            if attempt:
                self.journal.retried += 1
                await asyncio.sleep(delay * (0.5 + self.rng.random()))
                delay = min(delay * 2, 3.0)
            try:
                response = await self.client.request(method, url, content=body, headers=headers)
            except httpx.TransportError:
                self.journal.connection_errors += 1
                continue
            self.journal.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.journal.server_errors.append((response.status_code, method, _path(url)))
                continue
            if response.status_code == 429:
                continue
            if method == "GET" and response.status_code == 200:
                self.csrf = csrf_from(response.text) or self.csrf
            return response
        raise GaveUp(f"{method} {_path(url)}")


def _path(url: str) -> str:
    """The URL without the invitation token, for reports."""
    return re.sub(r"/s/[^/]+", "/s/<token>", url)


def _location(response: httpx.Response) -> str:
    """The path and query a response leads to (a screen of a page is ?part=N)."""
    location = response.headers.get("HX-Redirect") or response.headers.get("Location", "")
    return httpx.URL(location).raw_path.decode() if location else ""


def _screen_id(location: str) -> str:
    """The screen a page URL shows: the page's name, then "name/2" for ?part=2 (see surveys.screens)."""
    url = httpx.URL(location)
    part = url.params.get("part", "")
    name = url.path.rsplit("/", 1)[1]
    return f"{name}/{part}" if part not in ("", "1") else name


# --- what a partner answers -------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 256
# With capture=True the survey ends with a page of its own: two numbers, a calculation that reads them and an image.
CAPTURE_ROWS = [
    {"type": "begin_group", "name": "capture", "label::English (en)": "Staff and evidence",
     "label::French (fr)": "Personnel et preuves", "label::Spanish (es)": "Personal y pruebas"},
    {"type": "integer", "name": "staff_men", "label::English (en)": "Men on your staff",
     "label::French (fr)": "Hommes", "label::Spanish (es)": "Hombres"},
    {"type": "integer", "name": "staff_women", "label::English (en)": "Women on your staff",
     "label::French (fr)": "Femmes", "label::Spanish (es)": "Mujeres"},
    {"type": "calculate", "name": "staff_total", "calculation": "coalesce(${staff_men}, 0) + coalesce(${staff_women}, 0)"},
    {"type": "image", "name": "staff_logo", "label::English (en)": "Your logo", "label::French (fr)": "Votre logo",
     "label::Spanish (es)": "Su logo"},
    {"type": "select_one bench_country", "name": "work_country", "label::English (en)": "Country of work",
     "label::French (fr)": "Pays", "label::Spanish (es)": "País"},
    {"type": "select_one bench_district", "name": "work_district", "label::English (en)": "District",
     "label::French (fr)": "District", "label::Spanish (es)": "Distrito", "choice_filter": "country=${work_country}"},
    {"type": "begin_repeat", "name": "sites", "label::English (en)": "Sites", "label::French (fr)": "Sites",
     "label::Spanish (es)": "Sitios"},
    {"type": "text", "name": "site_name", "label::English (en)": "Site name", "label::French (fr)": "Nom du site",
     "label::Spanish (es)": "Nombre del sitio"},
    {"type": "end_repeat"},
    {"type": "end_group"},
]
# ... with a cascade (district narrowed by country) and an open repeat whose entries the partner adds and autosaves.
DISTRICTS = {"ke": ("nairobi", "mombasa"), "gh": ("accra", "kumasi"), "np": ("kathmandu",)}
CAPTURE_CHOICES = [
    *({"list_name": "bench_country", "name": c, "label::English (en)": c.upper(), "label::French (fr)": c.upper(),
       "label::Spanish (es)": c.upper()} for c in DISTRICTS),
    *({"list_name": "bench_district", "name": d, "country": c, "label::English (en)": d.title(),
       "label::French (fr)": d.title(), "label::Spanish (es)": d.title()} for c, ds in DISTRICTS.items() for d in ds),
]
SITE_KEY = re.compile(r'name="sites\[(\d+)\]/site_name"')


def free_questions(definition) -> set[str]:
    """Questions no condition, constraint or default refers to: racing two tabs on them cannot hide anything."""
    referenced = set()
    for question in definition.questions():
        for source in (question.relevant_source, question.constraint_source, question.default or ""):
            referenced.update(REFERENCE.findall(source))
        if question.choice_filter is not None:
            referenced.update(question.choice_filter.references)
    return {
        q.name
        for q in definition.questions()
        if q.answerable
        and q.name not in referenced
        and not q.conditions
        and q.choice_filter is None
        and q.type in ("text", "select_one", "range")
    }


def choose(question, values: dict, partner: dict, rng: random.Random) -> str | None:
    """A valid answer (as the server will store it), or None when none passes the question's constraint."""
    from surveys.cascades import offered

    names = [n for n in offered(question, {**partner, **values}) if n != "other"]
    if question.type in ("select_one", "select_multiple", "rank") and not names:
        return None
    for _try in range(30):
        if question.type == "select_one":
            value = rng.choice(names)
        elif question.type == "select_multiple":
            picked = set(rng.sample(names, min(len(names), rng.choice((1, 1, 2)))))
            value = " ".join(n for n in names if n in picked)
        elif question.type == "rank":
            value = " ".join(rng.sample(names, question.rank_positions))
        elif question.type == "range":
            start, end, step = question.range_bounds
            value = str(int(rng.choice(range(int(start), int(end) + 1, int(step) or 1))))
        elif question.type == "integer" or question.type == "decimal":
            value = str(rng.randint(0, 500))
        elif question.type == "date":
            value = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        elif question.type == "text":
            value = (
                rng.choice(
                    [
                        "More regional meetings",
                        "Plus d'échanges entre pairs",
                        "Más financiación",
                        "Clearer guidance",
                    ]
                )
                + f" #{rng.randint(1, 10**6)}"
            )
        else:
            return None
        if question.constraint is None:
            return value
        context = {**partner, **{k: v for k, v in values.items() if v}, question.name: value}
        if question.constraint.evaluate(context, current=value):
            return value
    return None


def form_fields(question, value: str | None) -> list[tuple[str, str]]:
    """The form fields a browser sends for one question's value."""
    fields = [(f"{question.name}__present", "1")]
    if value is None:
        return fields
    if question.type == "select_multiple":
        return fields + [(question.name, code) for code in value.split()]
    if question.type == "rank":
        return fields + [
            (f"{question.name}[{code}]", str(position))
            for position, code in enumerate(value.split(), start=1)
        ]
    return fields + [(question.name, value)]


# --- one partner ------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    invited: Invited
    double_submit: bool
    two_tabs: bool
    seed: int


class Partner:
    """A partner answering the whole survey in one tab, perhaps with a second tab racing it."""

    def __init__(self, plan: Plan, base: str, definition, journal: Journal, free: set[str]):
        self.plan = plan
        self.token = plan.invited.token
        self.definition = definition
        self.journal = journal
        self.free = free
        self.rng = random.Random(plan.seed)
        self.tab = Tab(base, self.token, "A", journal, self.rng)
        self.other = (
            Tab(base, self.token, "B", journal, random.Random(plan.seed + 1)) if plan.two_tabs else None
        )
        self.values: dict[str, str] = {}
        self.raced: set[str] = set()

    def _record(self, tab: Tab, via: str, question: str, value, sent: float) -> Save:
        save = Save(tab=tab.name, via=via, value=value, sent=sent)
        self.journal.saves[self.token][question].append(save)
        return save

    async def autosave(self, tab: Tab, question, value: str | None) -> bool:
        save = self._record(tab, "autosave", question.name, value, time.time())
        try:
            response = await tab.request(
                "POST",
                f"/s/{self.token}/answer/{question.name}",
                data=form_fields(question, value),
                htmx=True,
            )
        except GaveUp:
            save.received = time.time()
            return False
        save.received = time.time()
        if response.status_code == 200:
            save.outcome = "ack"
            self.journal.acknowledged += 1
            return True
        save.outcome = "refused"
        return False

    async def upload(self, question) -> None:
        """Upload a small PNG, replace it once in a while (a retry after a killed worker sends it again)."""
        for _time in range(2 if self.rng.random() < 0.3 else 1):
            name = f"logo-{self.rng.randint(1, 10**6)}.png"
            save = self._record(self.tab, "upload", question.name, name, time.time())
            try:
                response = await self.tab.request(
                    "POST", f"/s/{self.token}/upload/{question.name}",
                    data={"csrf_token": self.tab.csrf or ""}, files={question.name: (name, PNG, "image/png")})
            except GaveUp:
                save.received = time.time()
                continue
            save.received = time.time()
            if response.status_code == 303:
                save.outcome = "ack"
                self.journal.acknowledged += 1
                self.values[question.name] = name
            else:
                save.outcome = "refused"

    async def add_entries(self, location: str, repeat) -> None:
        """Add one to three entries with the page's "Add an entry" button (no JavaScript: the page comes back), then
        autosave each new entry's answer; the ids the page shows after each add are journalled for the checker."""
        page = httpx.URL(location).copy_with(fragment=None).raw_path.decode()
        known = self.journal.entries[self.token]
        question = repeat.questions[0]
        for _entry in range(self.rng.choice((1, 2, 3))):
            response = await self.tab.request(
                "POST", page, data=[("csrf_token", self.tab.csrf or ""), ("action", f"add:{repeat.name}")])
            self.journal.add_retries[self.token] += self.tab.attempts - 1
            if response.status_code != 303:
                raise GaveUp(f"add an entry answered {response.status_code}")
            shown = await self.tab.request("GET", page)
            new = [i for i in sorted({int(i) for i in SITE_KEY.findall(shown.text)}) if i not in known]
            if not new:
                raise GaveUp("an acknowledged entry is not on the page")
            known += new
            for entry in new:
                key = f"{repeat.name}[{entry}]/{question.name}"
                for _time in range(2 if self.rng.random() < 0.25 else 1):
                    value = f"Site {entry} #{self.rng.randint(1, 10**6)}"
                    save = self._record(self.tab, "entry", key, value, time.time())
                    try:
                        reply = await self.tab.request(
                            "POST", f"/s/{self.token}/answer/{key}", data=[(f"{key}__present", "1"), (key, value)],
                            htmx=True)
                    except GaveUp:
                        save.received = time.time()
                        continue
                    save.received = time.time()
                    save.outcome = "ack" if reply.status_code == 200 else "refused"
                    self.journal.acknowledged += reply.status_code == 200

    async def run(self) -> None:
        try:
            await self._run()
        except GaveUp as error:
            self.journal.unfinished.append((self.token[:6], f"gave up on {error}"))
        finally:
            await self.tab.close()
            if self.other:
                await self.other.close()

    async def _open(self, tab: Tab) -> str:
        response = await tab.request("GET", f"/s/{self.token}")
        if response.status_code != 200:
            raise GaveUp(f"welcome answered {response.status_code}")
        response = await tab.request("POST", f"/s/{self.token}/start", data={"csrf_token": tab.csrf or ""})
        if response.status_code != 303:
            raise GaveUp(f"start answered {response.status_code}")
        return _location(response)

    async def _run(self) -> None:
        from surveys.relevance import layout, visible_questions

        location = await self._open(self.tab)
        if self.other:
            await self._open(self.other)
        for question in self.definition.questions():
            if question.default and question.default.startswith("${"):
                raw = self.plan.invited.partner.get(question.default[2:-1], "")
                if raw:
                    self.values[question.name] = raw
        for _step in range(60):
            if "/page/" not in location:
                break
            screen = layout(self.definition).screens.by_id[_screen_id(location)]
            response = await self.tab.request("GET", location)
            if response.status_code != 200:
                raise GaveUp(f"page answered {response.status_code}")
            answered = []
            for question in screen.questions:
                shown = visible_questions(self.definition, self.values, self.plan.invited.partner)
                if not question.answerable or question.name not in shown:
                    continue
                if question.type in ("image", "file"):
                    await self.upload(question)
                    continue
                if question.choice_filter is not None and self.values.get(question.name):
                    continue  # answered once, after what it is narrowed by: a later change would leave it stale
                if not question.required and not question.default and self.rng.random() < 0.15:
                    continue
                value = choose(question, self.values, self.plan.invited.partner, self.rng)
                if value is None:
                    continue
                if self.other and question.name in self.free and self.rng.random() < 0.6:
                    rival = choose(question, self.values, self.plan.invited.partner, self.rng)
                    self.raced.add(question.name)
                    await asyncio.gather(
                        self.autosave(self.tab, question, value), self.autosave(self.other, question, rival)
                    )
                    self.values[question.name] = value
                    continue
                if await self.autosave(self.tab, question, value):
                    self.values[question.name] = value
                    answered.append(question)
                if self.rng.random() < 0.25:
                    second = choose(question, self.values, self.plan.invited.partner, self.rng)
                    if second is not None and await self.autosave(self.tab, question, second):
                        self.values[question.name] = second
            for repeat in screen.repeats:
                await self.add_entries(location, repeat)
            location = await self._leave_page(location, answered)
        if not location.endswith("/review"):
            raise GaveUp(f"never reached the review (at {_path(location)})")
        await self._submit()

    async def _leave_page(self, location: str, answered: list) -> str:
        """Post the page form with action=next: a random half of this tab's answers, the rest left as stored."""
        posted = [q for q in answered if q.name not in self.raced and self.rng.random() < 0.5]
        data = [("csrf_token", self.tab.csrf or ""), ("action", "next")]
        sent = time.time()
        saves = []
        for question in posted:
            data += form_fields(question, self.values.get(question.name))
            saves.append(self._record(self.tab, "page", question.name, self.values.get(question.name), sent))
        try:
            response = await self.tab.request("POST", httpx.URL(location).copy_with(fragment=None).raw_path.decode(),
                                              data=data)
        except GaveUp:
            for save in saves:
                save.received = time.time()
            raise
        received = time.time()
        location = _location(response)
        for save in saves:
            save.received = received
            if response.status_code == 303 and "/receipt" not in location:
                save.outcome = "ack"
            elif response.status_code == 303:
                save.outcome = "refused"
        if response.status_code == 303:
            self.journal.acknowledged += len(saves) if "/receipt" not in location else 0
            return location
        raise GaveUp(f"page {_path(location)} answered {response.status_code}")

    async def _submit(self) -> None:
        await self.tab.request("GET", f"/s/{self.token}/review")
        if self.other:
            await self.other.request("GET", f"/s/{self.token}/review")
        tabs = [self.tab, self.tab] if self.plan.double_submit else [self.tab]
        if self.other:
            tabs.append(self.other)

        async def one(tab: Tab):
            sent = time.time()
            response = await tab.request(
                "POST", f"/s/{self.token}/submit", data={"csrf_token": tab.csrf or ""}
            )
            self.journal.submits[self.token].append(
                (sent, time.time(), response.status_code, _location(response))
            )
            return response

        responses = await asyncio.gather(*(one(tab) for tab in tabs))
        for response in responses:
            if response.status_code != 303 or not _location(response).endswith("/receipt"):
                raise GaveUp(f"submit answered {response.status_code} {_path(_location(response))}")
        receipt = await self.tab.request("GET", f"/s/{self.token}/receipt")
        if receipt.status_code != 200:
            raise GaveUp(f"receipt answered {receipt.status_code}")
        self.journal.receipts.add(self.token)


# --- the run ----------------------------------------------------------------------------------------------------


async def drive(
    server: Server, setup: Setup, journal: Journal, kill_worker: bool, time_limit: float, seed: int
) -> None:
    rng = random.Random(seed)
    free = free_questions(setup.definition)
    plans = [
        Plan(
            invited=invited,
            double_submit=rng.random() < 0.2,
            two_tabs=rng.random() < 0.15,
            seed=rng.randrange(10**9),
        )
        for invited in setup.invited
    ]
    partners = [Partner(plan, server.base, setup.definition, journal, free) for plan in plans]
    tasks = [asyncio.create_task(partner.run()) for partner in partners]

    async def killer():
        expected = 30 * len(partners)
        while journal.acknowledged < expected / 3:
            await asyncio.sleep(0.05)
        journal.killed_pid = server.kill_worker()
        journal.kill_time = time.time()

    watcher = asyncio.create_task(killer()) if kill_worker else None
    done, pending = await asyncio.wait(tasks, timeout=time_limit)
    for task in pending:
        task.cancel()
    if pending:
        journal.unfinished += [("?", "time limit reached")] * len(pending)
        await asyncio.gather(*pending, return_exceptions=True)
    if watcher:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    for task in done:
        if task.exception():
            journal.unfinished.append(("?", repr(task.exception())))


@dataclass
class Report:
    """The checker's findings; `ok` when nothing was lost, doubled or failed."""

    database: str
    partners: int
    workers: int
    threads: int = 0
    seconds: float = 0.0
    requests: int = 0
    statuses: dict = field(default_factory=dict)
    acknowledged_answers: int = 0
    checked_answers: int = 0
    acknowledged_before_kill: int = 0
    lost: list = field(default_factory=list)
    wrong: list = field(default_factory=list)
    duplicate_rows: int = 0
    duplicate_responses: int = 0
    submitted: int = 0
    submit_problems: list = field(default_factory=list)
    changed_after_submit: int = 0
    server_errors: list = field(default_factory=list)
    connection_errors: int = 0
    retried: int = 0
    unfinished: list = field(default_factory=list)
    killed_pid: int | None = None
    workers_after: int = 0
    races: int = 0
    capture_problems: list = field(default_factory=list)  # calculations and uploads (capture=True)
    uploads_checked: int = 0
    calculations_checked: int = 0
    cascades_checked: int = 0
    entries_checked: int = 0
    entries_added_by_retry: int = 0  # an "Add an entry" sent again after a lost reply: at least once, not exactly

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.wrong
            or self.duplicate_rows
            or self.duplicate_responses
            or self.submit_problems
            or self.changed_after_submit
            or self.server_errors
            or self.unfinished
            or self.capture_problems
            or (self.killed_pid and self.workers_after < self.workers)
        )

    def lines(self) -> list[str]:
        rate = self.requests / self.seconds if self.seconds else 0
        out = [
            (
                f"database {self.database}, {self.partners} partners, {self.workers} workers x {self.threads} threads: "
                f"{self.requests} requests "
                f"in {self.seconds:.1f} s ({rate:.0f}/s); statuses {dict(sorted(self.statuses.items()))}"
            ),
            (
                f"answers acknowledged {self.acknowledged_answers}, (response, question) pairs checked "
                f"{self.checked_answers}, of them raced by two tabs {self.races}"
            ),
            (
                f"lost {len(self.lost)}, wrong value {len(self.wrong)}, duplicate answer rows {self.duplicate_rows}, "
                f"duplicate responses {self.duplicate_responses}"
            ),
            (
                f"submitted {self.submitted}, submit problems {len(self.submit_problems)}, answers changed after "
                f"submission {self.changed_after_submit}"
            ),
            (
                f"5xx reaching a partner {len(self.server_errors)} {Counter(s for s, *_ in self.server_errors)}, "
                f"connection errors {self.connection_errors}, retries {self.retried}, unfinished partners "
                f"{len(self.unfinished)}"
            ),
        ]
        if self.uploads_checked or self.calculations_checked:
            out.append(f"uploads checked {self.uploads_checked}, calculations checked {self.calculations_checked}, "
                       f"cascades checked {self.cascades_checked}, repeat entries checked {self.entries_checked} "
                       f"(added again by a retried add: {self.entries_added_by_retry}), "
                       f"problems {len(self.capture_problems)}")
        if self.killed_pid:
            out.append(
                f"killed worker {self.killed_pid}; answers acknowledged before the kill "
                f"{self.acknowledged_before_kill} (checked with the rest); workers after {self.workers_after}"
            )
        for label, items in (
            ("lost", self.lost),
            ("wrong", self.wrong),
            ("submit", self.submit_problems),
            ("5xx", self.server_errors),
            ("unfinished", self.unfinished),
            ("capture", self.capture_problems),
        ):
            for item in items[:5]:
                out.append(f"  {label}: {item}")
        out.append("PASS" if self.ok else "FAIL")
        return out


def check_capture(database: Database, uploads_dir: Path, report: Report, setup: Setup, journal: Journal) -> None:
    """Each stored upload answer has one file record of the same name whose bytes are in the store; each submitted
    calculation equals what it reads; each district is one of its country's; each response holds exactly the
    entries its partner was told were added, each with the last answer acknowledged for it."""
    from engagement.extensions import db
    from surveys.models import Answer, Response, UploadedFile

    app = make_app(database, UPLOADS_DIR=str(uploads_dir))
    with app.app_context():
        files = defaultdict(list)
        for record in db.session.scalars(db.select(UploadedFile)):
            files[(record.response_id, record.question)].append(record)
        answers = defaultdict(dict)
        for answer in db.session.scalars(db.select(Answer)):
            answers[answer.response_id][answer.question] = answer.value
        for key, records in files.items():
            if len(records) > 1:
                report.capture_problems.append(f"{key}: {len(records)} file records")
        for response in db.session.scalars(db.select(Response)):
            values = answers.get(response.id, {})
            logo = values.get("staff_logo")
            records = files.get((response.id, "staff_logo"), [])
            if logo is not None or records:
                report.uploads_checked += 1
                if logo is None or len(records) != 1 or records[0].file_name != logo:
                    report.capture_problems.append(f"response {response.id}: answer {logo!r}, files "
                                                  f"{[r.file_name for r in records]}")
                elif not (uploads_dir / records[0].storage_key).is_file():
                    report.capture_problems.append(f"response {response.id}: {logo} has no bytes in the store")
                elif (uploads_dir / records[0].storage_key).read_bytes() != PNG:
                    report.capture_problems.append(f"response {response.id}: {logo} stored with other bytes")
            if response.status == "submitted":
                report.calculations_checked += 1
                expected = int(values.get("staff_men") or 0) + int(values.get("staff_women") or 0)
                if values.get("staff_total") != str(expected):
                    report.capture_problems.append(f"response {response.id}: staff_total "
                                                  f"{values.get('staff_total')!r}, expected {expected}")
            if values.get("work_district"):
                report.cascades_checked += 1
                if values["work_district"] not in DISTRICTS.get(values.get("work_country") or "", ()):
                    report.capture_problems.append(f"response {response.id}: district {values['work_district']} "
                                                  f"outside country {values.get('work_country')!r}")
        by_invitation = {invited.invitation_id: invited.token for invited in setup.invited}
        for response in db.session.scalars(db.select(Response)):
            token = by_invitation.get(response.invitation_id)
            _check_entries(answers.get(response.id, {}), journal, token, f"response {response.id}", report)
        db.session.remove()
        db.engine.dispose()


def _check_entries(values: dict, journal: Journal, token: str | None, where: str, report: Report) -> None:
    """The entries list holds each acknowledged entry once and no other (beyond what a retried add explains); each
    entry's answer is the latest acknowledged one (or one still in flight when it was acknowledged)."""
    stored = (values.get("sites#entries") or "").split()
    told = journal.entries.get(token, []) if token else []
    if len(stored) != len(set(stored)):
        report.capture_problems.append(f"{where}: an entry listed twice: {stored}")
    missing = [i for i in told if str(i) not in stored]
    extra = [i for i in stored if int(i) not in told]
    if missing:
        report.capture_problems.append(f"{where}: entries {missing} acknowledged but not stored ({stored})")
    report.entries_added_by_retry += len(extra)
    if len(extra) > journal.add_retries.get(token, 0):
        report.capture_problems.append(f"{where}: entries {extra} stored that no add explains")
    for entry in told:
        key = f"sites[{entry}]/site_name"
        saves = journal.saves[token].get(key, []) if token else []
        acked = [s for s in saves if s.outcome == "ack"]
        if not acked:
            continue
        report.entries_checked += 1
        latest = max(acked, key=lambda s: s.received)
        accepted = {s.value for s in saves if s.outcome != "refused" and (s.received or float("inf")) >= latest.sent}
        if values.get(key) not in accepted:
            report.capture_problems.append(f"{where}: {key} stored {values.get(key)!r}, accepted {sorted(accepted)}")


def check(database: Database, setup: Setup, journal: Journal, report: Report) -> Report:
    """Compare the database with what the server acknowledged (the rule is in this module's docstring)."""
    from engagement.extensions import db
    from surveys.models import Answer, Response
    from surveys.relevance import visible_questions

    app = make_app(database)
    by_token = {invited.token: invited for invited in setup.invited}
    with app.app_context():
        report.duplicate_rows = len(
            db.session.execute(
                db.select(Answer.response_id, Answer.question)
                .group_by(Answer.response_id, Answer.question)
                .having(db.func.count() > 1)
            ).all()
        )
        report.duplicate_responses = len(
            db.session.execute(
                db.select(Response.invitation_id).group_by(Response.invitation_id).having(db.func.count() > 1)
            ).all()
        )
        responses = {r.invitation_id: r for r in db.session.scalars(db.select(Response))}
        stored: dict[int, dict[str, tuple[str, object]]] = defaultdict(dict)
        for answer in db.session.scalars(db.select(Answer)):
            stored[answer.response_id][answer.question] = (answer.value, answer.updated_at)
        for token, questions in journal.saves.items():
            invited = by_token[token]
            response = responses.get(invited.invitation_id)
            answers = stored.get(response.id, {}) if response else {}
            values = {name: value for name, (value, _at) in answers.items()}
            shown = visible_questions(setup.definition, values, invited.partner)
            for question, saves in questions.items():
                acked = [s for s in saves if s.outcome == "ack"]
                if not acked:
                    continue
                report.checked_answers += 1
                report.races += len({s.tab for s in saves}) > 1
                if journal.kill_time:
                    report.acknowledged_before_kill += sum(s.received <= journal.kill_time for s in acked)
                latest = max(acked, key=lambda s: s.received)
                accepted = {
                    s.value
                    for s in saves
                    if s.outcome != "refused" and (s.received or float("inf")) >= latest.sent
                }
                value = values.get(question)
                if value in accepted:
                    continue
                if question not in shown and (value is None or value in {s.value for s in saves}):
                    continue
                where = f"{token[:6]}…/{question}: stored {value!r}, accepted {sorted(map(repr, accepted))}"
                (report.lost if value is None else report.wrong).append(where)
        for token in journal.receipts:
            response = responses.get(by_token[token].invitation_id)
            sent = min(s for s, *_ in journal.submits[token])
            received = max(r for _s, r, *_ in journal.submits[token])
            if response is None or response.status != "submitted" or response.submitted_at is None:
                report.submit_problems.append(f"{token[:6]}…: not submitted")
                continue
            report.submitted += 1
            at = response.submitted_at
            at = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
            if not sent - 1 <= at <= received + 1:
                report.submit_problems.append(f"{token[:6]}…: submitted_at outside its submit requests")
            for _value, updated in stored.get(response.id, {}).values():
                updated = (updated if updated.tzinfo else updated.replace(tzinfo=UTC)).timestamp()
                report.changed_after_submit += updated > at + 0.001
        db.session.remove()
        db.engine.dispose()
    report.acknowledged_answers = journal.acknowledged
    report.statuses = dict(journal.statuses)
    report.requests = sum(journal.statuses.values())
    report.server_errors = journal.server_errors
    report.connection_errors = journal.connection_errors
    report.retried = journal.retried
    report.unfinished = journal.unfinished
    report.killed_pid = journal.killed_pid
    return report


def run_in_own_loop(coroutine):
    """asyncio.run in a thread of its own: the caller's thread may already run a loop (Playwright's sync API does,
    for the whole test session)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run_load(
    partners: int = 200,
    workers: int = 4,
    database: str = "sqlite",
    kill_worker: bool = False,
    time_limit: float = 600,
    seed: int = 87,
    workdir: Path | None = None,
    rate_limits: bool = False,
    capture: bool = False,
) -> Report:
    """Set up a round, run the partners against gunicorn, check the database; returns the report."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="load-"))
    target = fresh_database(database, workdir)
    report = Report(database=database, partners=partners, workers=workers, threads=gunicorn_settings()["threads"])
    try:
        setup = prepare_round(target, partners, CAPTURE_ROWS if capture else None,
                              CAPTURE_CHOICES if capture else None)
        journal = Journal()
        env = {
            "RATELIMIT_ENABLED": "1" if rate_limits else "0",
            "RATELIMIT_STORAGE_URI": f"sqlitefile://{workdir / 'rate-limits.sqlite'}",
            "UPLOADS_DIR": str(workdir / "uploads"),
        }
        server = Server(target, workers, env=env, log=workdir / "gunicorn.log").start()
        try:
            started = time.monotonic()
            run_in_own_loop(drive(server, setup, journal, kill_worker, time_limit, seed))
            report.seconds = time.monotonic() - started
            deadline = time.monotonic() + 15
            while len(server.workers()) < workers and time.monotonic() < deadline:
                time.sleep(0.2)
            report.workers_after = len(server.workers())
        finally:
            server.stop()
        check(target, setup, journal, report)
        if capture:
            check_capture(target, workdir / "uploads", report, setup, journal)
        if "database is locked" in server.log_text().lower() or "database busy" in server.log_text().lower():
            report.server_errors.append(("log", "database busy or locked in the server log", ""))
    finally:
        target.drop()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--kill-worker", action="store_true")
    parser.add_argument(
        "--time-limit", type=float, default=600, help="seconds before unfinished partners stop"
    )
    parser.add_argument("--seed", type=int, default=87)
    parser.add_argument(
        "--rate-limits", action="store_true", help="keep the app's rate limits on (shared storage)"
    )
    parser.add_argument("--capture", action="store_true",
                        help="end the survey with two numbers, a calculation and an image upload, and check them")
    parser.add_argument("--json", action="store_true", help="print the report as JSON too")
    args = parser.parse_args()
    report = run_load(
        args.partners,
        args.workers,
        args.database,
        args.kill_worker,
        args.time_limit,
        args.seed,
        rate_limits=args.rate_limits,
        capture=args.capture,
    )
    print("\n".join(report.lines()))
    if args.json:
        print(json.dumps({k: v for k, v in report.__dict__.items()}, default=str))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
