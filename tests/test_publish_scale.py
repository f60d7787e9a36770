"""What keeps a publish run linear in the size of the project: kept posts reused, the ledger read
once, syndication kept up as entries go out rather than rebuilt for each."""
import shutil

from click.testing import CliRunner

from conftest import item, write_project

SETTINGS = """\
site:
  title: Scale News
  url: https://scale.example
timezone: UTC
channels:
  blog:
    type: blog
"""
NOW = "2026-11-21T00:00Z"


def newsroom(root, n: int = 12):
    files = {f"content/post-{i:02d}.md": item(f"Post {i}", status="approved", approved_by="Ed", author="Writer",
                                              publish_at=f"2026-11-20T{i % 24:02d}:00", channels=["blog"],
                                              body=f"Some *text* for post {i}.\n")
             for i in range(n)}
    return write_project(root, files, SETTINGS)


def publish(root, *args):
    from publish import cli

    result = CliRunner().invoke(cli, ["--root", str(root), "publish", "--now", NOW, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def count_renders(monkeypatch) -> list:
    import channels.render

    calls = []
    real = channels.render.render_post

    def counting(project, item, channel, **kw):
        calls.append((item.path, channel.name))
        return real(project, item, channel, **kw)

    monkeypatch.setattr(channels.render, "render_post", counting)
    return calls


def test_a_ci_run_with_the_cache_restored_renders_nothing_it_kept(tmp_path, monkeypatch):
    root = newsroom(tmp_path / "news")
    calls = count_renders(monkeypatch)
    publish(root)
    assert len(calls) == 12  # the cold run renders each post once, for delivery and the site alike
    page = (root / "public" / "post-03" / "index.html").read_text(encoding="utf-8")
    shutil.rmtree(root / "state")
    shutil.rmtree(root / "public")
    calls.clear()
    publish(root)
    assert calls == []
    assert (root / "public" / "post-03" / "index.html").read_text(encoding="utf-8") == page
    # an edited item is rendered again, and only that one
    (root / "content" / "post-05.md").write_text(
        item("Post 5", status="approved", approved_by="Ed", author="Writer", publish_at="2026-11-20T05:00",
             channels=["blog"], body="Corrected *text*.\n"), encoding="utf-8")
    shutil.rmtree(root / "state")
    calls.clear()
    publish(root)
    assert calls == [("content/post-05.md", "blog")]
    assert "Corrected" in (root / "public" / "post-05" / "index.html").read_text(encoding="utf-8")
