"""Property tests of the pure pieces: ordering, archives, slugs, plurals, item parsing."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import markdown.util
import pytest
import yaml
from helpers.links import page_path
from helpers.reference import draw_site
from helpers.site import MINI, NOW, STATIC, TEMPLATES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown.inlinepatterns import LinkInlineProcessor
from slugify import slugify

from csto_site.content.config import load_config
from csto_site.content.items import ITEM_KEYS, make_slug, parse_item
from csto_site.content.labels import load_labels
from csto_site.content.markup import Markup, bracket_ends
from csto_site.content.model import Item
from csto_site.content.registry import load_registry
from csto_site.content.sources import SourceFile, discover
from csto_site.output.render import Renderer
from csto_site.output.views import plural
from csto_site.site.assemble import build_archive, build_site, dated_between, newest_first
from csto_site.site.model import NEWS, SECTION, Scope
from csto_site.site.urls import Urls
from csto_site.util.errors import Problem

# Deadlines are off throughout: the machine is shared, and a slow example is not a wrong one.
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TZ = NOW.tzinfo


@pytest.fixture(scope="module")
def world():
    """The mini fixture's configuration and registries, the Markdown converter and the templates."""
    labels, problems = load_labels(TEMPLATES)
    assert problems == []
    config = load_config(MINI, labels)
    registry = load_registry(MINI, config, discover(MINI).sections)
    return config, registry, Markup(), Renderer(TEMPLATES)


def make_item(n: int, published: datetime, section: str = "alpha", lang: str = "en", **fields) -> Item:
    """Return an item with plausible defaults; `n` makes its key, path and slug unique."""
    suffix = "" if lang == "en" else f".{lang}"
    values = dict(
        key=f"{section}/item-{n:03d}",
        lang=lang,
        path=f"content/{section}/item-{n:03d}{suffix}.md",
        section=section,
        title=f"Item {n}",
        published=published,
        updated=None,
        slug=f"item-{n:03d}",
        summary="Summary.",
        body_html="<p>Body.</p>",
        officials=(),
        organizations=(),
        draft=False,
        aliases=(),
        digest=f"{n:032x}",
    )
    values.update(fields)
    return Item(**values)


# A few fixed moments, so that many generated items share a time.
MOMENTS = st.sampled_from(
    [
        datetime(2024, 3, 12, 10, tzinfo=TZ),
        datetime(2024, 3, 12, 23, 59, tzinfo=TZ),
        datetime(2024, 1, 1, 0, 0, tzinfo=TZ),
        datetime(2023, 12, 31, 23, 59, tzinfo=TZ),
        datetime(2005, 6, 30, 12, tzinfo=TZ),
    ]
)
DATES = st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2026, 11, 28), timezones=st.just(TZ))


@st.composite
def items(draw, moments=MOMENTS, max_size=12):
    """Draw items with unique paths, sections alpha/beta, dates from `moments`."""
    numbers = draw(st.lists(st.integers(0, 999), unique=True, max_size=max_size))
    return [make_item(n, draw(moments), section=draw(st.sampled_from(["alpha", "beta"]))) for n in numbers]


# -- newest_first --------------------------------------------------------------------------------


@settings(deadline=None)
@given(items(), st.randoms(use_true_random=False))
def test_newest_first_is_ordered_and_independent_of_input_order(drawn, random):
    ordered = newest_first(drawn)
    assert sorted(ordered, key=id) == sorted(drawn, key=id), "a permutation of the input"
    for newer, older in pairwise(ordered):
        assert newer.published >= older.published
        if newer.published == older.published:
            assert newer.path < older.path, "equal times keep file-path order"
    shuffled = list(drawn)
    random.shuffle(shuffled)
    assert newest_first(shuffled) == ordered


def test_newest_first_compares_instants_not_wall_clocks():
    early = make_item(1, datetime(2024, 5, 20, 1, 0, tzinfo=TZ))
    late = make_item(2, datetime(2024, 5, 19, 22, 30, tzinfo=UTC))  # 01:30 in Moscow
    assert newest_first([early, late]) == (late, early)


# -- dated_between ---------------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")  # its clocks repeat 02:00-03:00 on the last Sunday of October
REPEATED = datetime(2024, 10, 27, 2, 0, tzinfo=BERLIN)
AROUND = st.builds(
    lambda minutes, fold: (REPEATED + timedelta(minutes=minutes)).replace(fold=fold),
    st.integers(-150, 150),
    st.integers(0, 1),
)


@given(st.lists(AROUND, max_size=8), AROUND, AROUND, st.sampled_from([BERLIN, UTC]))
def test_items_dated_between_two_instants_are_found_by_instant_even_in_a_repeated_hour(dates, start, end, dated_in):
    drawn = [make_item(n, d.astimezone(dated_in) if dated_in is UTC else d) for n, d in enumerate(dates)]
    low, high = sorted((start.timestamp(), end.timestamp()))

    found = dated_between(drawn, start.timestamp(), end.timestamp(), BERLIN)

    assert found == [i for i in drawn if low < i.published.timestamp() <= high]


# -- build_archive ---------------------------------------------------------------------------------


@settings(deadline=None)
@given(items(DATES, max_size=25))
def test_archive_files_every_item_exactly_once_under_its_own_date(drawn):
    ordered = newest_first(drawn)
    archive = build_archive(ordered)
    filed = []
    for year in archive:
        for month in year.months:
            assert month.year == year.year
            for day, of_day in month.days:
                assert of_day, "no empty day"
                for item in of_day:
                    assert item.day == day
                    assert (day.year, day.month) == (year.year, month.month)
                filed += of_day
            assert month.items == tuple(i for _, d in month.days for i in d)
        assert year.count == sum(len(m.items) for m in year.months)
    assert tuple(filed) == ordered
    years = [y.year for y in archive]
    assert years == sorted(set(years), reverse=True)
    for year in archive:
        months = [m.month for m in year.months]
        assert months == sorted(set(months), reverse=True)
        for month in year.months:
            days = [d for d, _ in month.days]
            assert days == sorted(set(days), reverse=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=items(DATES, max_size=10))
def test_every_prefix_of_every_item_url_is_a_page(drawn, world):
    config, registry, _, _ = world
    drawn = [
        replace(i, lang=lang, path=i.path.replace(".md", f".{lang}.md") if lang != "en" else i.path)
        for i in drawn
        for lang in ("en", "ru")
    ]
    site = build_site(drawn, registry, config, NOW)
    urls = Urls(config.default_language, config.base_url)
    pages = {"/" + o.path.removesuffix("index.html") for o in draw_site(site, world[3])}
    for item in drawn:
        url = urls.item(item)
        assert url in pages
        news = urls.news(item.lang)
        y, m, d = item.day.year, item.day.month, item.day.day
        assert {
            news,
            urls.listing(Scope(NEWS, item.lang, "", y)),
            urls.listing(Scope(NEWS, item.lang, "", y, m)),
            urls.listing(Scope(NEWS, item.lang, "", y, m, d)),
        } <= pages, url
        assert {
            urls.section(item.lang, item.section),
            urls.listing(Scope(SECTION, item.lang, item.section, y)),
            urls.listing(Scope(SECTION, item.lang, item.section, y, m)),
        } <= pages, url


PLACES = st.tuples(
    st.sampled_from(["en", "ru"]),
    st.sampled_from([date(2024, 3, 12), date(2024, 3, 1), date(2023, 3, 12), date(2024, 12, 3)]),
    st.sampled_from(["a", "a-b", "ab", "item", "2024", "12"]),
)


@given(st.lists(PLACES, min_size=2, max_size=2))
def test_two_items_share_a_place_exactly_when_they_share_a_url(places):
    """The check for duplicate addresses compares places, and formats a URL only for a duplicate."""
    urls = Urls("en", "https://example.org")
    one, other = (
        make_item(n, datetime.combine(day, time(10), TZ), lang=lang, slug=slug)
        for n, (lang, day, slug) in enumerate(places)
    )

    assert (urls.item_place(one) == urls.item_place(other)) == (urls.item(one) == urls.item(other))


def test_every_prefix_of_every_item_url_is_a_page_of_the_built_sites(site):
    pages = {page_path(site.out, p) for p in site.out.rglob("*.html")}
    for entry in site.items:
        url = site.expected.url(entry)
        parts = url.strip("/").split("/")
        prefixes = {"/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)}
        assert prefixes <= pages, sorted(prefixes - pages)


# -- slugs -------------------------------------------------------------------------------------------

TITLES = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs", "S"]), max_size=300)
CYRILLIC = st.text(
    alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ -:,.«»—0123456789", max_size=300
)


@settings(max_examples=60, deadline=None)
@given(st.one_of(TITLES, CYRILLIC))
def test_slugs_are_short_lowercase_words(title):
    slug = make_slug(title)
    assert len(slug) <= 100
    assert slug == "" or SLUG.match(slug), slug
    full = slugify(title, save_order=True)
    # Cut at a word boundary: the slug is the whole slug or a run of its leading words.
    assert slug == full or full.startswith(slug + "-"), (slug, full)


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Stanislav Zas meets Helga Schmid", "stanislav-zas-meets-helga-schmid"),
        ("Станислав Зась встретился с Хельгой Шмид", "stanislav-zas-vstretilsia-s-khelgoi-shmid"),
        ("Joint statement: two councils agree", "joint-statement-two-councils-agree"),
        ("", ""),
    ],
)
def test_slug_examples(title, slug):
    assert make_slug(title) == slug


def test_a_long_title_is_cut_after_a_whole_word():
    title = " ".join(["cooperation"] * 20)
    slug = make_slug(title)
    assert len(slug) <= 100
    assert slug == "-".join(["cooperation"] * 8)


# -- plurals ---------------------------------------------------------------------------------------

RU = ["новость", "новости", "новостей"]


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 новостей"),
        (1, "1 новость"),
        (2, "2 новости"),
        (4, "4 новости"),
        (5, "5 новостей"),
        (11, "11 новостей"),
        (12, "12 новостей"),
        (14, "14 новостей"),
        (21, "21 новость"),
        (22, "22 новости"),
        (25, "25 новостей"),
        (101, "101 новость"),
        (111, "111 новостей"),
        (112, "112 новостей"),
        (1001, "1001 новость"),
    ],
)
def test_russian_plurals(n, text):
    assert plural(n, RU, "ru") == text


@pytest.mark.parametrize(("n", "text"), [(0, "0 items"), (1, "1 item"), (2, "2 items"), (21, "21 items")])
def test_english_plurals(n, text):
    assert plural(n, ["item", "items"], "en") == text


# -- parsing never raises --------------------------------------------------------------------------

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "2024-01-01",
            "2024-13-01",
            "2024-01-01 25:00",
            "2024-01-01T10:00:00+03:00",
            "ivan-orlov",
            "Северный совет",
            "I. Orlov",
            "",
            "  ",
            "/old/url/",
            "valid-slug",
        ]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=2),
    max_leaves=5,
)
FRONT = st.dictionaries(st.sampled_from([*ITEM_KEYS, "unknown", "Title"]), VALUES, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(front=FRONT, lang=st.sampled_from(["", ".ru"]))
def test_any_front_matter_gives_an_item_or_problems_never_an_exception(front, lang, world):
    config, registry, markup, renderer = world
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\nBody.\n"
    source = SourceFile(f"content/alpha/fuzz{lang}.md", f"alpha/fuzz{lang}.md", text, "0" * 32)
    parsed, problems = parse_item(source, registry, config, markup.render)
    if parsed is None or problems:  # an item comes back with problems of the files it names, never published
        assert problems
        for problem in problems:
            assert isinstance(problem, Problem)
            assert problem.path == source.path
            assert 1 <= problem.line <= text.count("\n")
            assert problem.message and problem.hint, problem
        return
    item = parsed.item
    assert item.title and SLUG.match(item.slug) and len(item.slug) <= 100
    assert item.published.utcoffset() is not None
    site = build_site([item], registry, config, NOW, drafts=True, future=True)
    outputs = draw_site(site, renderer)
    assert any(o.path.endswith("/index.html") and item.slug in o.path for o in outputs)


def test_naive_dates_are_in_the_site_time_zone(world):
    config, registry, markup, _ = world
    source = SourceFile("c/alpha/a.md", "alpha/a.md", "---\ntitle: A\ndate: 2024-05-20 01:30\n---\nB.\n", "0")
    parsed, problems = parse_item(source, registry, config, markup.render)
    assert problems == []
    assert parsed.item.published == datetime(2024, 5, 19, 22, 30, tzinfo=UTC)
    assert parsed.item.published.utcoffset() == timedelta(hours=3)
    assert str(parsed.item.day) == "2024-05-20"


def test_names_resolve_by_id_name_or_alias_in_either_language(world):
    config, registry, markup, _ = world
    text = (
        "---\ntitle: A\ndate: 2024-01-01\nofficials: [ivan-orlov, Анна петрова, I. ORLOV]\n"
        "organizations: [СЕВЕРНЫЙ СОВЕТ, rc, The Northern Council]\n---\nB.\n"
    )
    parsed, problems = parse_item(SourceFile("c/alpha/a.md", "alpha/a.md", text, "0"), registry, config, markup.render)
    assert problems == []
    assert parsed.item.officials == ("ivan-orlov", "anna-petrova")
    assert parsed.item.organizations == ("northern-council", "river-commission")


def test_markup_builds_every_extension_without_searching_installed_packages(monkeypatch):
    def scan() -> None:
        raise AssertionError("Python-Markdown searched the installed packages' entry points for an extension")

    # Python-Markdown searches them for an extension given by name (80 ms on a machine with many packages).
    monkeypatch.setattr(markdown.util, "get_installed_extensions", scan)
    text = (
        "# Heading\n\nText[^1], *HTML*, `code`.\n\n*[HTML]: HyperText\n\n[^1]: A note.\n\n"
        "Term\n: Definition\n\n| a | b |\n| --- | ---: |\n| 1 | 2 |\n\n```\nfenced\n```\n"
    )
    html = Markup({"en": "Back to %d"}).render(text, "en")
    for made_by_an_extension in (
        '<h2 id="heading">',
        'class="footnote"',
        'title="Back to 1"',
        '<abbr title="HyperText">',
        "<dl>",
        '<td class="align-right">',
        "<pre><code>fenced",
    ):
        assert made_by_an_extension in html


@given(st.text(alphabet="[]a!(", max_size=40))
def test_the_quick_bracket_scan_answers_as_python_markdowns_own(data):
    # A newer Python-Markdown without _findBracketEnds fails here: BracketScan would then do nothing.
    assert bracket_ends(data) == LinkInlineProcessor._findBracketEnds(data)


BODY_PARTS = ["word ", "[", "]", "[a link](https://example.org/) ", "![x](y.png) ", "[^1]", "\n\n"]


@given(st.lists(st.sampled_from(BODY_PARTS)))
def test_bodies_convert_alike_with_and_without_the_quick_bracket_scan(parts):
    body = "".join(parts) + "\n\n[^1]: A note.\n"
    quick = Markup()
    stock = Markup()
    parser = stock._parser("en")
    for processor in parser.inlinePatterns:
        if isinstance(processor, LinkInlineProcessor):
            assert processor._findBracketEnds is bracket_ends
            del processor._findBracketEnds  # back to the library's own method
    assert quick.render(body, "en") == stock.render(body, "en")


def test_a_table_keeps_its_column_alignment_as_classes_the_stylesheet_aligns(world):
    _, _, markup, _ = world
    html = markup.render("| a | b | c | d |\n| :--- | :---: | ---: | --- |\n| 1 | 2 | 3 | 4 |\n", "en")
    cells = re.findall(r"<t[hd](?=[ >])([^>]*)>", html)
    assert cells == [' class="align-left"', ' class="align-center"', ' class="align-right"', ""] * 2
    assert "style=" not in html, "the site's Content-Security-Policy allows no inline style"
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    for side in ("center", "right"):
        assert f".item-body .align-{side} {{ text-align: {side}; }}" in css


HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>")


@pytest.mark.parametrize(
    ("body", "levels"),
    [
        ("## Talks\n\n### Results", [("Talks", 2), ("Results", 3)]),  # what the README tells authors to write
        ("# Talks\n\n### Results", [("Talks", 2), ("Results", 3)]),
        ("### Early\n\n## Talks\n\n#### Detail", [("Early", 2), ("Talks", 2), ("Detail", 3)]),
        ("#### Alone", [("Alone", 2)]),
        ("## A\n\n<h5>Written in HTML</h5>\n\n## B", [("A", 2), ("Written in HTML", 3), ("B", 2)]),
        (
            "\n\n".join(f"{'#' * n} L{n}" for n in range(1, 7)) + "\n\n###### Deep",
            [(f"L{n}", n + 1) for n in range(1, 6)] + [("L6", 6), ("Deep", 6)],
        ),
        ("```\n<h1>code</h1>\n```\n\n`<h3>` in text", []),  # markup shown, not made: no heading
    ],
)
def test_a_body_s_headings_start_at_h2_and_never_skip_a_level(body, levels):
    html = Markup().render(body, "en")
    assert [(text, int(level)) for level, text in HEADING.findall(html)] == levels, html


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=12))
def test_no_written_sequence_of_headings_skips_a_level(written):
    html = Markup().render("\n\n".join(f"{'#' * n} H{i}\n\nText." for i, n in enumerate(written)), "en")
    given_levels = [int(level) for level, _ in HEADING.findall(html)]
    assert len(given_levels) == len(written)
    assert given_levels[0] == 2
    assert all(2 <= b <= a + 1 for a, b in pairwise(given_levels)), (written, given_levels)
