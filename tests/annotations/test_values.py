import pytest

from annotations.values import parse_value

STYLES = ["renaissance", "baroque", "art nouveau"]


def test_single_choice_label_is_matched_case_insensitively_and_stored_as_spelled():
    assert parse_value("single", STYLES, None, None, " Art Nouveau ") == "art nouveau"


def test_single_choice_value_outside_the_labels_names_the_labels():
    with pytest.raises(ValueError, match="'cubism' is not one of the labels \\(renaissance, baroque, art nouveau\\)"):
        parse_value("single", STYLES, None, None, "cubism")


def test_multi_label_set_is_split_on_semicolons_deduplicated_and_ordered_like_the_labels():
    assert parse_value("multi", STYLES, None, None, "art nouveau;renaissance;Renaissance") == [
        "renaissance", "art nouveau"]
    assert parse_value("multi", STYLES, None, None, "") == []


def test_rating_accepts_numbers_within_the_scale_only():
    assert parse_value("rating", [], 1, 7, "7") == 7
    assert parse_value("rating", [], 1, 7, 3.5) == 3.5
    for bad, reason in [("8", "outside the scale 1-7"), ("nice", "not a number"), ("nan", "not a finite")]:
        with pytest.raises(ValueError, match=reason):
            parse_value("rating", [], 1, 7, bad)


def test_empty_single_choice_is_refused():
    with pytest.raises(ValueError, match="empty"):
        parse_value("binary", ["human", "ai"], None, None, "")
