"""Rendering for Threads, Facebook Pages, Instagram, Ghost, WordPress and Hashnode: the shipped
templates, each platform's count and limit, and the canonical URL of cross-posts."""
from channels import registry
from channels.render import render_post
from conftest import item

SETTINGS = """\
site:
  title: Test Newsroom
  url: https://news.test
timezone: Europe/Berlin
channels:
  blog:
    type: blog
  threads:
    type: threads
    token: env:THREADS_TOKEN
  facebook:
    type: facebook
    page_id: "104857600123456"
    token: env:FB_PAGE_TOKEN
  ghost:
    type: ghost
    url: https://blog.test
    admin_key: env:GHOST_ADMIN_KEY
  hashnode:
    type: hashnode
    publication_id: 6512a3b4c5d6e7f8a9b0c1d2
    token: env:HASHNODE_TOKEN
  instagram:
    type: instagram
    user_id: "17841405822304914"
    token: env:IG_TOKEN
"""


def render(root, path, channel):
    from scheduler.project import load_project as load

    project = load(root)
    return render_post(project, project.item_by_path(path), registry.build(project.settings.channels[channel], {}))


def test_threads_post_counts_emoji_by_bytes_and_keeps_one_topic_tag(project):
    title = "Launch 🚀 " * 25  # 25 × (7 + 4 bytes for the rocket): 275 by Threads' count
    root = project({"content/a.md": item(title.strip(), summary="Short " * 60, tags=["release", "python"],
                                         channels=["threads"])}, settings=SETTINGS)
    post = render(root, "content/a.md", "threads")
    assert post.parts[0].endswith("Short…\n\nhttps://news.test/a/?utm_source=threads&utm_medium=social\n\n#release")
    assert post.limit == 500 and 490 < post.lengths[0] <= 500 and post.problems == []


def test_threads_over_the_limit_by_its_own_count(project):
    root = project({"content/a.md": item("🚀 " * 120, channels=["threads"])}, settings=SETTINGS)
    post = render(root, "content/a.md", "threads")
    over = post.lengths[0] - 500
    assert len(post.parts[0]) < 500 and over > 0
    assert [p.message for p in post.problems] == [
        f"threads: the post is {over} characters over the limit of 500 ({post.lengths[0]}/500), from "
        "templates/threads/post.j2 (shipped default); shorten it, or set channels.threads.thread: true to post it "
        "as a thread"]


def test_a_threads_thread_is_split_into_parts_of_500(project):
    body = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(8))
    root = project({"content/a.md": item("Long", body=body, channels={"threads": {"thread": True}})},
                   settings=SETTINGS)
    post = render(root, "content/a.md", "threads")
    assert len(post.parts) > 1 and all(n <= 500 for n in post.lengths) and post.problems == []


def test_facebook_post_leads_with_the_point_and_ends_with_the_link(project):
    root = project({"content/a.md": item("Launch", summary="What changed.", tags=["release", "python"],
                                         channels=["facebook"])}, settings=SETTINGS)
    post = render(root, "content/a.md", "facebook")
    assert post.parts == ["Launch\n\nWhat changed.\n\nBody text.\n\n"
                          "https://news.test/a/?utm_source=facebook&utm_medium=social\n\n#release #python"]
    assert post.limit == 63206 and post.problems == []


def test_a_ghost_cross_post_points_at_the_blog_page_only_when_the_blog_has_the_item(project):
    root = project({"content/a.md": item("Launch", summary="What changed.", tags=["Release"], body="Hello *Ghost*.\n",
                                         channels=["blog", "ghost"]),
                    "content/b.md": item("Only on Ghost", channels=["ghost"])}, settings=SETTINGS)
    crossed = render(root, "content/a.md", "ghost")
    assert crossed.data["body"] == "<p>Hello <em>Ghost</em>.</p>" and crossed.data["tags"] == ["Release"]
    assert crossed.data["canonical_url"] == "https://news.test/a/" and crossed.data["title"] == "Launch"
    assert crossed.data["custom_excerpt"] == "What changed." and crossed.problems == []
    original = render(root, "content/b.md", "ghost")
    assert original.data["canonical_url"] is None


def test_hashnode_gets_markdown_and_at_most_fifteen_tags(project):
    tags = [f"tag{i}" for i in range(17)]
    root = project({"content/a.md": item("Launch", tags=tags, body="Hello *Hashnode*.\n", channels=["blog", "hashnode"])},
                   settings=SETTINGS)
    post = render(root, "content/a.md", "hashnode")
    assert post.data["body"] == "Hello *Hashnode*." and post.data["tags"] == tags[:15]
    assert post.data["canonical_url"] == "https://news.test/a/"
    assert [p.message for p in post.problems] == [
        "hashnode takes at most 15 tags; tag15, tag16 will be left out (order the tags by importance or set fewer)"]


def test_instagram_caption_sends_readers_to_the_bio_and_needs_an_image(project):
    root = project({"content/a.md": item("Launch", summary="What changed.", tags=["release"], image="/images/a.jpg",
                                         image_alt="A rocket", channels=["instagram"]),
                    "content/b.md": item("No picture", channels=["instagram"])}, settings=SETTINGS)
    post = render(root, "content/a.md", "instagram")
    assert post.parts == ["Launch\n\nWhat changed.\n\nRead it on Test Newsroom: link in bio.\n\n#release"]
    assert post.limit == 2200 and [m.src for m in post.media] == ["https://news.test/images/a.jpg"]
    assert not [p for p in post.problems if p.message.startswith("instagram:")]
    bare = render(root, "content/b.md", "instagram")
    assert [p.message for p in bare.problems] == [
        "instagram: an Instagram post needs an image: give the item an `image` (a JPEG, or an MP4 for a reel)"]
