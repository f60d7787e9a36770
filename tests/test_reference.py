"""docs/reference.md is generated from the schemas; every key has a line of help."""
from conftest import ROOT


def test_reference_is_up_to_date():
    from scheduler.project import reference_text

    assert (ROOT / "docs/reference.md").read_text(encoding="utf-8") == reference_text(), \
        "docs/reference.md is stale: run python publish.py reference --write"


def test_every_key_is_documented():
    from channels.reference import sections
    from reports.layer import reference_sections

    for heading, _, schema, prefix in sections(reference_sections()):
        for dotted, kind, _, help_ in schema.reference(prefix):
            assert help_.strip(), f"{heading}: {dotted} has no help"
            assert kind.strip(), f"{heading}: {dotted} has no kind"


def test_every_channel_type_is_documented():
    from channels.registry import BUILTIN

    text = (ROOT / "docs/reference.md").read_text(encoding="utf-8")
    for cls in BUILTIN:
        assert f"## Channel type `{cls.TYPE}`" in text
