"""A repeat inside a repeat on the partner pages: inner entries added, answered and removed inside an outer entry,
without JavaScript and with htmx; removing an outer entry removes its inner entries."""

import pytest

from tests import factories
from tests.conftest import start_survey

from .test_repeat_pages import post, stored

SURVEY = [
    *factories.repeat(
        "children", "Child",
        {"type": "text", "name": "name", "label": "Child's name"},
        *factories.repeat(
            "cartoons", "Cartoon",
            {"type": "text", "name": "name", "label": "Cartoon's name", "required": "yes"},
            {"type": "integer", "name": "times", "label": "Times seen", "constraint": ". < 100",
             "constraint_message": "Too many", "relevant": "${name} != ''"},
        ),
    ),
]


@pytest.fixture
def token(app):
    return factories.partner_token(app, SURVEY)


def test_inner_entries_are_answered_without_javascript(app, client, token):
    start_survey(client, token)
    post(client, token, "children", {}, "add:children")
    post(client, token, "children", {}, "add:children")
    added = post(client, token, "children", {}, "add:children[1]/cartoons")
    assert added.status_code == 303 and added.headers["Location"].endswith("#r-children-1-cartoons")
    page = client.get(f"/s/{token}/page/children").get_data(as_text=True)
    assert 'name="children[1]/cartoons[1]/name"' in page and 'id="r-children-1-cartoons"' in page
    assert 'value="add:children[2]/cartoons"' in page  # each child has its own list
    # required and constraint inside the inner entry
    data = {"children[1]/cartoons[1]/name__present": "1", "children[1]/cartoons[1]/name": "",
            "children[1]/name__present": "1", "children[1]/name": "Ana"}
    refused = post(client, token, "children", data, "next")
    assert refused.status_code == 422 and "Please answer this question." in refused.get_data(as_text=True)
    data.update({"children[1]/cartoons[1]/name": "Totoro", "children[1]/cartoons[1]/times__present": "1",
                 "children[1]/cartoons[1]/times": "500"})
    refused = post(client, token, "children", data, "save")
    assert refused.status_code == 422 and "Too many" in refused.get_data(as_text=True)
    data["children[1]/cartoons[1]/times"] = "3"
    post(client, token, "children", data, "save")
    answers = stored(app)
    assert answers["children[1]/cartoons[1]/name"] == "Totoro" and answers["children[1]/cartoons[1]/times"] == "3"
    assert answers["children[1]/name"] == "Ana"
    # removing an inner entry twice: the second is refused, nothing changes
    post(client, token, "children", {}, "add:children[1]/cartoons")
    post(client, token, "children", {}, "remove:children[1]/cartoons:2")
    before = stored(app)
    again = post(client, token, "children", {}, "remove:children[1]/cartoons:2", follow_redirects=True)
    html = again.get_data(as_text=True)
    assert html.count("Entry 2 does not exist") == 1  # in the cartoons' block only, not in every block
    cartoons = html[html.index('id="r-children-1-cartoons"'):]
    assert "Entry 2 does not exist" in cartoons[:cartoons.index("</legend>") + 200]
    assert stored(app) == before and before["children[1]/cartoons#entries"] == "1"
    # removing the outer entry removes its inner entries; nothing can then be added under it
    post(client, token, "children", {}, "remove:children:1")
    assert not [key for key in stored(app) if key.startswith("children[1]")]
    before = stored(app)
    post(client, token, "children", {}, "add:children[1]/cartoons")
    assert stored(app) == before


def test_inner_entries_autosave_and_change_in_place_with_htmx(app, client, token):
    start_survey(client, token)
    post(client, token, "children", {}, "add:children", htmx=True)
    reply = post(client, token, "children", {}, "add:children[1]/cartoons", htmx=True)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and 'hx-select="#r-children-1-cartoons"' in html
    key = "children[1]/cartoons[1]/name"
    saved = client.post(f"/s/{token}/answer/{key}", data={f"{key}__present": "1", key: "Heidi"}, htmx=True)
    assert saved.status_code == 200 and "Saved" in saved.get_data(as_text=True)
    assert stored(app)[key] == "Heidi"
    times = "children[1]/cartoons[1]/times"
    refused = client.post(f"/s/{token}/answer/{times}", data={f"{times}__present": "1", times: "500"}, htmx=True)
    assert refused.status_code == 422 and "Too many" in refused.get_data(as_text=True)
    assert times not in stored(app)


def test_review_and_receipt_list_inner_entries_and_a_missing_inner_answer_blocks_submission(app, client, token):
    start_survey(client, token)
    post(client, token, "children", {}, "add:children")
    post(client, token, "children", {}, "add:children[1]/cartoons")
    post(client, token, "children", {}, "add:children[1]/cartoons")
    data = {"children[1]/name__present": "1", "children[1]/name": "Ana",
            "children[1]/cartoons[1]/name__present": "1", "children[1]/cartoons[1]/name": "Totoro"}
    post(client, token, "children", data, "save")
    # cartoon 2 has no name, which is required: the review links to it and submitting is refused
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert "/page/children#q-children%5B1%5D/cartoons%5B2%5D/name\">Cartoon&#39;s name</a>" in review
    client.post(f"/s/{token}/submit", data={})
    assert client.get(f"/s/{token}/review").status_code == 200  # still answerable: not submitted
    data.update({"children[1]/cartoons[2]/name__present": "1", "children[1]/cartoons[2]/name": "Heidi"})
    post(client, token, "children", data, "review")
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert review.index("Ana") < review.index("Totoro") < review.index("Heidi")
    assert 'id="a-children[1]/cartoons"' in review and "Cartoon 2" in review
    submitted = client.post(f"/s/{token}/submit", data={})
    assert submitted.status_code == 303
    receipt = client.get(submitted.headers["Location"]).get_data(as_text=True)
    assert "Totoro" in receipt and "Heidi" in receipt


OPTIONAL = [
    *factories.repeat(
        "children", "Child",
        {"type": "text", "name": "name", "label": "Child's name"},
        *factories.repeat("cartoons", "Cartoon", {"type": "text", "name": "name", "label": "Cartoon's name"},
                          {"type": "integer", "name": "times", "label": "Times seen", "relevant": "${name} != ''"}),
    ),
    {"type": "text", "name": "last", "label": "Anything else?"},
]


def test_inner_answers_stay_when_the_page_is_left_and_hidden_ones_go(app, client):
    token = factories.partner_token(app, OPTIONAL)
    start_survey(client, token)
    post(client, token, "children", {}, "add:children")
    post(client, token, "children", {}, "add:children[1]/cartoons")
    data = {"children[1]/name__present": "1", "children[1]/name": "Ana",
            "children[1]/cartoons[1]/name__present": "1", "children[1]/cartoons[1]/name": "Totoro",
            "children[1]/cartoons[1]/times__present": "1", "children[1]/cartoons[1]/times": "3"}
    post(client, token, "children", data, "next")
    answers = stored(app)
    assert answers["children[1]/cartoons[1]/name"] == "Totoro" and answers["children[1]/cartoons[1]/times"] == "3"
    assert answers["children[1]/cartoons#entries"] == "1"
    # times is asked only while the cartoon has a name (its own, not the child's): clearing it drops times when the
    # page is left
    post(client, token, "children", {**data, "children[1]/cartoons[1]/name": ""}, "next")
    answers = stored(app)
    assert "children[1]/cartoons[1]/times" not in answers and answers["children[1]/name"] == "Ana"


COUNTING = [
    *OPTIONAL[:-1],
    {"type": "calculate", "name": "all_cartoons", "calculation": "count(${cartoons})"},
    {"type": "text", "name": "favourite", "label": "Which of them is the favourite?",
     "relevant": "count(${cartoons}) > 2"},
]


def test_outside_the_children_count_reads_every_childs_cartoons(app, client):
    """count(${cartoons}) outside the outer repeat counts the cartoons of every child (as in ODK)."""
    token = factories.partner_token(app, COUNTING)
    start_survey(client, token)
    for action in ("add:children", "add:children", "add:children[1]/cartoons", "add:children[1]/cartoons",
                   "add:children[2]/cartoons"):
        post(client, token, "children", {}, action)
    named = {f"children[{c}]/cartoons[{e}]/{field}": value for c, e, field, value in (
        (1, 1, "name__present", "1"), (1, 1, "name", "Totoro"), (1, 2, "name__present", "1"), (1, 2, "name", "Heidi"),
        (2, 1, "name__present", "1"), (2, 1, "name", "Nemo"))}
    two = post(client, token, "children", {k: v for k, v in named.items() if "[2]/cartoons" not in k}, "save")
    assert two.status_code == 303 and stored(app)["all_cartoons"] == "3"  # entries count, answered or not
    done = post(client, token, "children", named, "next")
    assert 'name="favourite"' in client.get(done.headers["Location"]).get_data(as_text=True)
    post(client, token, "children", named, "remove:children[1]/cartoons:1")
    post(client, token, "children", named, "remove:children[1]/cartoons:2")
    assert stored(app)["all_cartoons"] == "1"
    assert post(client, token, "children", {}, "next").headers["Location"].endswith("/review")


def test_an_inner_entry_is_added_under_a_counted_outer_entry_not_yet_saved(app, client):
    counted = [*factories.repeat("children", "Child", {"type": "text", "name": "name", "label": "Child's name"},
                                 *factories.repeat("cartoons", "Cartoon",
                                                   {"type": "text", "name": "name", "label": "Cartoon"}),
                                 repeat_count="2")]
    token = factories.partner_token(app, counted)
    start_survey(client, token)
    added = post(client, token, "children", {}, "add:children[2]/cartoons")
    assert added.status_code == 303
    answers = stored(app)
    assert answers["children#entries"] == "1 2" and answers["children[2]/cartoons#entries"] == "1"


def test_the_version_page_lists_inner_questions_and_conditional_required(admin, tmp_path):
    import io

    from tests.surveys.xlsform_builder import write_xlsform

    survey = [*OPTIONAL, {"type": "text", "name": "why", "label": "Why?", "required": "${last} != ''"}]
    path = write_xlsform(tmp_path / "children.xlsx", {"survey": survey,
                                                      "settings": [{"form_id": "kids", "form_title": "Kids"}]})
    imported = admin.post("/secretariat/surveys", data={"file": (io.BytesIO(path.read_bytes()), "children.xlsx")},
                          content_type="multipart/form-data")
    assert imported.status_code == 303
    page = admin.get(imported.headers["Location"]).get_data(as_text=True)
    assert "<code>children/name</code>" in page and "<code>children/cartoons/times</code>" in page
    assert "(required if ${last} != &#39;&#39;)" in page


def test_inside_a_childs_entry_the_count_reads_that_childs_cartoons(app, client):
    favourite = [*factories.repeat(
        "children", "Child", {"type": "text", "name": "name", "label": "Child's name"},
        *factories.repeat("cartoons", "Cartoon", {"type": "text", "name": "title", "label": "Cartoon"}),
        {"type": "text", "name": "fav", "label": "Which one is the favourite?", "relevant": "count(${cartoons}) > 1"})]
    token = factories.partner_token(app, favourite)
    start_survey(client, token)
    for action in ("add:children", "add:children", "add:children[1]/cartoons", "add:children[2]/cartoons"):
        post(client, token, "children", {}, action)
    page = client.get(f"/s/{token}/page/children").get_data(as_text=True)
    assert 'name="children[1]/fav"' not in page and 'name="children[2]/fav"' not in page  # one cartoon each
    post(client, token, "children", {}, "add:children[1]/cartoons")
    page = client.get(f"/s/{token}/page/children").get_data(as_text=True)
    assert 'name="children[1]/fav"' in page and 'name="children[2]/fav"' not in page
