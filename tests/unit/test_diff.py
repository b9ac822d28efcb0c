"""Version diffs mark the words that changed, inside the text they belong to."""

from __future__ import annotations

from tracker.domain.diff import Segment, diff_versions, word_diff

SUMMARY = (
    "Delete a person's data without undue delay when they ask and a ground applies. "
    "Then tell every recipient unless it is impossible or would take disproportionate effort."
)


def test_a_changed_phrase_is_removed_and_added_with_its_neighbours_kept() -> None:
    edited = SUMMARY.replace("without undue delay", "within one month")
    assert word_diff(SUMMARY, edited) == (
        Segment("same", "Delete a person's data "),
        Segment("removed", "without undue delay"),
        Segment("added", "within one month"),
        Segment("same", " when they ask and a ground applies. Then "),
        Segment("gap", "…"),
    )


def test_one_word_changed_in_a_long_paragraph_shows_only_that_word_and_its_context() -> None:
    before = " ".join(f"word{n}" for n in range(200))
    after = before.replace("word100", "changed")
    segments = word_diff(before, after, context=3)
    assert [segment.kind for segment in segments] == [
        "gap",
        "same",
        "removed",
        "added",
        "same",
        "gap",
    ]
    assert segments[1].text == "word97 word98 word99 "
    assert (segments[2].text, segments[3].text) == ("word100", "changed")
    assert segments[4].text == " word101 word102 word103 "


def test_rewrapping_the_text_changes_no_word() -> None:
    rewrapped = SUMMARY.replace(" when ", "\n  when ")
    assert {segment.kind for segment in word_diff(SUMMARY, rewrapped)} <= {"same", "gap"}


def test_added_text_at_the_end_and_a_removed_word_at_the_start() -> None:
    assert word_diff("Notify the authority.", "Notify the authority within 72 hours.") == (
        Segment("same", "Notify the "),
        Segment("removed", "authority."),
        Segment("added", "authority within 72 hours."),
    )
    assert word_diff("Promptly notify them.", "Notify them.") == (
        Segment("removed", "Promptly notify"),
        Segment("added", "Notify"),
        Segment("same", " them."),
    )


def test_removed_words_alone_keep_the_text_readable() -> None:
    assert word_diff("Tell every single recipient.", "Tell every recipient.") == (
        Segment("same", "Tell every "),
        Segment("removed", "single "),
        Segment("same", "recipient."),
    )


def test_diff_versions_compares_structured_fields_by_word_too() -> None:
    before = {"title": "Right to erasure", "parameters": [{"name": "days", "value": 30}]}
    after = {"title": "Right to erasure", "parameters": [{"name": "days", "value": 45}]}
    [change] = diff_versions(before, after)
    assert change.field == "parameters"
    removed = [s.text.strip() for s in change.segments if s.kind == "removed"]
    added = [s.text.strip() for s in change.segments if s.kind == "added"]
    assert (removed, added) == (["30"], ["45"])
    assert "".join(s.text for s in change.segments if s.kind != "removed") == change.after


def test_a_field_that_appears_is_all_added() -> None:
    [change] = diff_versions({}, {"effective_date": "2026-01-01"})
    assert change.segments == (Segment("added", "2026-01-01"),)
