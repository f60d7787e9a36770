"""Output formats are data: the command line offers exactly the formats the tables can write."""
from newsroom.formats import MEDIA_TYPES


def choices(command, option="fmt"):
    from publish import cli

    (param,) = [p for p in cli.commands[command].params if p.name == option]
    return list(param.type.choices)


def test_report_formats_come_from_one_table():
    from reports.formats import FORMATS

    assert choices("report") == list(FORMATS) == ["table", "md", "html", "csv", "json"]
    assert {f.media_type for f in FORMATS.values()} <= set(MEDIA_TYPES.values())
    assert FORMATS["csv"].media_type == "text/csv; charset=utf-8"


def test_calendar_formats_come_from_one_table():
    from scheduler.calendar import DIFF_FORMATS, FORMATS

    assert choices("calendar") == list(FORMATS) == ["text", "json", "csv", "ics", "html", "md"]
    assert FORMATS["ics"].media_type == "text/calendar; charset=utf-8"
    assert set(DIFF_FORMATS) < set(FORMATS)
