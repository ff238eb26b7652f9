"""A partner without JavaScript, as a test client: reads each page's form, answers every field it is shown, and
presses the page's default button, until the review page."""

from urllib.parse import urljoin

from lxml import html as lxml_html
from werkzeug.datastructures import MultiDict


def form_fields(page_html: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The page form's hidden fields (kept as they are) and an answer for every shown question, as a browser would
    send them: one value per radio group, some boxes ticked, each select and text field filled."""
    tree = lxml_html.fromstring(page_html)
    form = tree.get_element_by_id("page-form")
    hidden, answers, radios, boxes = [], [], {}, {}
    for element in form.iter("input", "select", "textarea"):
        name = element.get("name")
        if not name or _is_hidden(element):
            continue
        kind = element.get("type", "text") if element.tag == "input" else element.tag
        if kind == "hidden":
            hidden.append((name, element.get("value", "")))
        elif kind == "radio":
            radios.setdefault(name, []).append(element.get("value"))
        elif kind == "checkbox":
            boxes.setdefault(name, []).append(element.get("value"))
        elif kind == "select":
            options = [o.get("value") for o in element.iter("option") if o.get("value")]
            if "__rank" in name:  # a ranking's drop-down per position: a different option for each
                position = int(name.rsplit("__rank", 1)[1])
                answers.append((name, options[(position - 1) % len(options)]))
            elif options:
                answers.append((name, options[0] if "[" not in name else ""))
        elif kind in ("text", "textarea", "date"):
            answers.append((name, _typed(element)))
    rank_selects = [(n, v) for n, v in answers if "[" in n]
    answers = [(n, v) for n, v in answers if "[" not in n]
    answers += _ranked(rank_selects, tree)
    for name, values in radios.items():
        answers.append((name, values[len(values) // 2]))
    for name, values in boxes.items():
        answers += [(name, value) for value in values[:2] if value != "other"] or [(name, values[0])]
    return hidden, answers


def _is_hidden(element) -> bool:
    return any(ancestor.get("hidden") is not None for ancestor in element.iterancestors())


def _typed(element) -> str:
    kind = element.get("type", "text")
    if kind == "date":
        return "2026-03-01"
    if element.get("inputmode") == "numeric":
        return "12"
    if element.get("inputmode") == "decimal":
        return "3.5"
    return f"An answer to {element.get('name')}"


def _ranked(selects: list[tuple[str, str]], tree) -> list[tuple[str, str]]:
    """Positions 1..n for the first n options of each ranking."""
    rankings: dict[str, list[str]] = {}
    for name, _value in selects:
        rankings.setdefault(name.split("[")[0], []).append(name)
    chosen = []
    for names in rankings.values():
        positions = len(tree.xpath(f'//select[@name="{names[0]}"]/option[@value!=""]'))
        for position, name in enumerate(names, start=1):
            chosen.append((name, str(position) if position <= positions else ""))
    return chosen


def forward_action(page_html: str) -> str:
    """The action of the page's forward button ("next", or "review" on the last page)."""
    tree = lxml_html.fromstring(page_html)
    return tree.xpath('//form[@id="page-form"]//*[contains(@class, "page-actions")]//button/@value')[0]


def answer_every_page(client, token: str, limit: int = 40) -> list[str]:
    """Walk the survey from its start to the review page, answering every field shown; returns the names of the
    pages as they were shown, in order (a page shown again for new questions appears twice)."""
    welcome = lxml_html.fromstring(client.client.get(f"/s/{token}").get_data(as_text=True))
    start = welcome.xpath('//form[contains(@action, "/start")]//input[@name="csrf_token"]/@value')[0]
    response = client.client.post(f"/s/{token}/start", data={"csrf_token": start})
    visited, url = [], None
    for _step in range(limit):
        if response.status_code == 303:
            location = response.headers["Location"]
            if location.endswith("/review"):
                return visited
            url = urljoin(f"http://localhost/s/{token}/", location)
            response = client.client.get(url)
        assert response.status_code in (200, 422), (url, response.status_code)
        visited.append(url.rsplit("/", 1)[-1])
        page_html = response.get_data(as_text=True)
        hidden, answers = form_fields(page_html)
        response = client.client.post(url, data=MultiDict([*hidden, *answers,
                                                           ("action", forward_action(page_html))]))
    raise AssertionError(f"no review page after {limit} steps: {visited}")
