"""Smaller truths: inputs that used to be accepted silently or read as something else."""
from __future__ import annotations

import json

from conftest import item


def test_a_null_or_blank_title_is_an_error_at_its_line(cli, project):
    root = project({
        "content/null.md": "---\ntitle:\nstatus: draft\n---\nBody.\n",
        "content/blank.md": "---\nstatus: draft\ntitle: \"   \"\n---\nBody.\n",
        "content/fine.md": item("Fine"),
    })
    result = cli(root, "check", "--format", "json")
    assert result.exit_code == 1
    errors = [(p["path"], p["line"], p["key"], p["message"]) for p in json.loads(result.output)["errors"]]
    assert errors == [
        ("content/blank.md", 3, "title", "is blank; title is required (the headline)"),
        ("content/null.md", 2, "title", "is empty; title is required (the headline)"),
    ]
