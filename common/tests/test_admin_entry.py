"""common.admin_entry and common.admin_autocomplete: the body a page makes, refusals put on their fields, the widget.

The pages themselves, saved through a service's serializer and service, are tested by the
sales and purchase suites (``test_admin_entry.py``) and in the browser (tests/test_back_office.py).
"""

from __future__ import annotations

import json

from django import forms

from common.admin_autocomplete import Choice, ServiceAutocomplete, autocomplete_response
from common.admin_entry import EntryForms, EntryRowForm
from common.exceptions import UpstreamTimeout


class Row(EntryRowForm):
    item_id = forms.CharField(required=False)
    quantity = forms.CharField(required=False)


Rows = forms.formset_factory(Row, extra=0)


def page(header: dict, rows: list[dict], *, disabled: tuple[str, ...] = ()) -> EntryForms:
    """The forms of a page posted with ``header`` and ``rows`` (validated)."""
    data = {"rows-TOTAL_FORMS": str(len(rows)), "rows-INITIAL_FORMS": "0", **header}
    for index, row in enumerate(rows):
        data |= {f"rows-{index}-{name}": value for name, value in row.items()}
    form = forms.Form(data)
    form.fields["party"] = forms.CharField(required=False, disabled="party" in disabled)
    form.fields["rush"] = forms.BooleanField(required=False)
    entry = EntryForms(header=form, rows=Rows(data, prefix="rows"), rows_field="items", rows_label="Lines")
    assert entry.is_valid()
    return entry


def test_the_body_leaves_out_blank_rows_blank_values_and_disabled_fields():
    # given
    entry = page(
        {"party": " P-1 ", "rush": "on"},
        [{"item_id": "A", "quantity": " 2 "}, {"item_id": "", "quantity": ""}, {"item_id": "B", "quantity": ""}],
    )
    kept = page({"party": "P-2"}, [{"item_id": "A", "quantity": "1"}], disabled=("party",))

    # when
    body, kept_body = entry.body(), kept.body()

    # then
    assert body == {"party": "P-1", "rush": True, "items": [{"item_id": "A", "quantity": "2"}, {"item_id": "B"}]}
    assert kept_body == {"rush": False, "items": [{"item_id": "A", "quantity": "1"}]}


def test_refusals_go_to_the_row_they_name_counting_only_the_rows_sent():
    # given: a blank row between the two sent
    entry = page({"party": "P"}, [{"item_id": "A", "quantity": "1"}, {}, {"item_id": "B", "quantity": "0"}])
    entry.body()

    # when
    entry.refuse(
        [
            {"field": "items.1.quantity", "message": "Too few."},
            {"field": "items.0", "message": "Odd line."},
            {"field": "items", "message": "Too many lines."},
            {"field": "party", "message": "Unknown party."},
            {"field": "status", "message": "order is Confirmed, expected Draft"},
        ]
    )

    # then
    rows = entry.rows.forms
    assert (rows[0].errors, rows[1].errors, rows[2].errors) == (
        {"__all__": ["Odd line."]},
        {},
        {"quantity": ["Too few."]},
    )
    assert entry.header.errors == {
        "__all__": ["Lines: Too many lines.", "order is Confirmed, expected Draft"],
        "party": ["Unknown party."],
    }
    assert entry.has_errors


def test_a_tampered_management_form_is_an_error_of_the_page():
    # given: a post without the rows' management form (a hand-made request, or a stale page)
    form = forms.Form({"party": "P"})
    form.fields["party"] = forms.CharField(required=False)
    entry = EntryForms(header=form, rows=Rows({"party": "P"}, prefix="rows"), rows_field="items", rows_label="Lines")

    # when
    valid = entry.is_valid()

    # then: refused, and the page says so (its "Nothing was saved" and the title's "Error:")
    assert not valid
    assert entry.has_errors


def test_a_name_from_a_service_is_escaped_in_the_widget():
    # given: an item whose name and price were written by someone hostile
    widget = ServiceAutocomplete(
        url="/search/item/",
        labels=lambda ids: {"a": Choice("a", "<img src=x onerror=alert(1)>", {"unit_price": '"><script>'})},
    )

    # when
    shown = widget.render("item", "a")

    # then
    assert "<img" not in shown and "<script>" not in shown
    assert 'data-unit_price="&quot;&gt;&lt;script&gt;">&lt;img src=x onerror=alert(1)&gt;</option>' in shown


def test_the_widget_names_the_chosen_value_and_shows_an_id_it_cannot_name():
    # given
    named = ServiceAutocomplete(
        url="/search/item/", labels=lambda ids: {"a": Choice("a", "A widget", {"unit_price": "2.50"})}
    )

    def down(ids):
        raise UpstreamTimeout()

    unnamed = ServiceAutocomplete(url="/search/item/", labels=down)

    # when
    shown = named.render("item", "a")
    shown_down = unnamed.render("item", "a")

    # then
    assert 'data-ajax--url="/search/item/"' in shown and 'class="admin-autocomplete"' in shown
    assert '<option value="a" selected data-unit_price="2.50">A widget</option>' in shown
    assert '<option value="a" selected>a</option>' in shown_down


def test_a_search_whose_service_does_not_answer_is_one_disabled_result():
    # given
    def search(term):
        raise UpstreamTimeout()

    # when
    answer = json.loads(autocomplete_response(term="bolt", search=search, service="inventory_svc").content)
    found = json.loads(
        autocomplete_response(term=" bolt ", search=lambda term: [Choice(term, term.upper())], service="x").content
    )

    # then
    message = (
        "inventory_svc did not answer (A service this request needs did not answer in time.): "
        "nothing can be searched now; try again in a moment."
    )
    assert answer == {
        "results": [{"id": "unanswered", "text": message, "disabled": True}],
        "error": message,
        "pagination": {"more": False},
    }
    assert found == {"results": [{"id": "bolt", "text": "BOLT"}], "pagination": {"more": False}}
