"""Every RSS feed of both sites: well-formed, the right items in the right order, absolute links."""

from __future__ import annotations

import calendar
import html
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime

import feedparser
import yaml
from helpers.dom import read_html
from helpers.links import target_file
from helpers.site import NOW

ATOM = "{http://www.w3.org/2005/Atom}"
RFC_822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)


def feeds(site):
    """Yield (lang, kind, id, site path of the listing page, site path of its feed)."""
    for lang, kind, ident in site.expected.listings(NOW):
        page = site.expected.listing_path(lang, kind, ident)
        yield lang, kind, ident, page, f"{page}rss.xml"


def expected_categories(site, entry):
    """Return {absolute URL: allowed names} of the section, officials and organizations of an item."""
    e, lang, prefix = site.expected, entry.lang, site.expected.prefix(entry.lang)
    wanted = {e.absolute(f"{prefix}/sections/{entry.section}/"): {e.sections[entry.section][lang]}}
    for o in entry.officials:
        wanted[e.absolute(f"{prefix}/officials/{o}/")] = {e.official_names[o][lang]}
    for o in entry.organizations:
        wanted[e.absolute(f"{prefix}/organizations/{o}/")] = {
            e.organization_short[o][lang],
            e.organization_names[o][lang],
        }
    return wanted


def test_the_output_has_exactly_the_expected_feeds(site):
    expected = {path.lstrip("/") for *_, path in feeds(site)}
    actual = {p.relative_to(site.out).as_posix() for p in site.out.rglob("rss.xml")}
    assert actual == expected


def test_every_feed_has_the_right_items(site):
    for lang, kind, ident, _, path in feeds(site):
        data = target_file(site.out, path).read_bytes()
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        assert parsed.version == "rss20", path
        wanted = site.expected.listing(NOW, lang, kind, ident)[: site.expected.feed_length]
        urls = [site.expected.absolute(site.expected.url(e)) for e in wanted]
        assert [entry.link for entry in parsed.entries] == urls, path
        for entry, item in zip(parsed.entries, wanted, strict=True):
            assert entry.id == entry.link, path
            assert html.unescape(entry.title) == item.title
            assert entry.published_parsed is not None, path
            assert calendar.timegm(entry.published_parsed) == int(item.published.timestamp()), (path, entry.link)
            if item.summary:
                assert html.unescape(entry.summary) == " ".join(item.summary.split()), (path, entry.link)
            else:
                assert entry.summary, (path, entry.link)
            tags = {t.scheme: t.term for t in entry.tags}
            categories = expected_categories(site, item)
            assert len(entry.tags) == len(categories), (path, entry.link)
            assert set(tags) == set(categories), (path, entry.link)
            for scheme, term in tags.items():
                assert term in categories[scheme], (path, entry.link, term)


def test_every_feed_channel_is_complete(site):
    for lang, _, _, _, path in feeds(site):
        channel = ET.parse(target_file(site.out, path)).getroot().find("channel")
        assert channel.findtext("language") == lang, path
        assert channel.findtext("title"), path
        assert channel.findtext("description"), path
        selves = [link.get("href") for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"]
        assert selves == [site.expected.absolute(path)], path
        for item in channel.findall("item"):
            assert RFC_822.match(item.findtext("pubDate")), (path, item.findtext("pubDate"))
            guid = item.find("guid")
            assert guid.get("isPermaLink", "true") == "true", path
            assert guid.text == item.findtext("link"), path


def test_feed_channel_link_is_the_listing_page(site):
    for _, _, _, page, path in feeds(site):
        channel = ET.parse(target_file(site.out, path)).getroot().find("channel")
        assert channel.findtext("link") == site.expected.absolute(page), path


def test_feed_length_limits_the_news_feed(mini):
    """The mini fixture has feed_length 3 and more English items than that."""
    assert mini.expected.feed_length == 3
    english = mini.expected.listing(NOW, "en")
    assert len(english) > 3
    parsed = feedparser.parse((mini.out / "news/rss.xml").read_bytes())
    assert [e.link for e in parsed.entries] == [mini.expected.absolute(mini.expected.url(i)) for i in english[:3]]


def test_equal_times_keep_the_file_order(mini):
    """Two items of 12 March 2024 10:00: the order of their files decides, in every listing."""
    urls = [e.link for e in feedparser.parse((mini.out / "sections/alpha/rss.xml").read_bytes()).entries]
    assert urls == [
        "https://example.org/news/2024/03/12/morning-briefing-held/",
        "https://example.org/news/2024/03/12/working-visit-to-the-river-commission/",
        "https://example.org/news/2023/11/14/annual-report-published/",
    ]


def test_item_filed_under_the_site_local_day(mini):
    """22:30 UTC on 19 May is 01:30 on 20 May in Moscow: the item is filed under 20 May."""
    parsed = feedparser.parse((mini.out / "organizations/northern-council/rss.xml").read_bytes())
    night = [e for e in parsed.entries if "night-session" in e.link]
    assert [e.link for e in night] == ["https://example.org/news/2024/05/20/night-session-of-the-working-group/"]
    assert night[0].published == "Mon, 20 May 2024 01:30:00 +0300"


def test_pages_link_their_feeds(site):
    """Every listing page announces its feed with <link rel="alternate" type="application/rss+xml">."""
    for _, _, _, page, path in feeds(site):
        doc = read_html(target_file(site.out, page))
        hrefs = [link.get("href") for link in doc.find_all("link", rel="alternate", type="application/rss+xml")]
        assert hrefs == [path], page


def last_change(site, entry) -> datetime:
    """Return when an item last changed, from its file: the latest of its date, `updated:` and its log of `updates:`."""
    matter = yaml.load((site.content / entry.rel).read_text(encoding="utf-8").split("---")[1], Loader=yaml.BaseLoader)
    stamps = ([matter["updated"]] if "updated" in matter else []) + [u["date"] for u in matter.get("updates", ())]
    moments = [datetime.fromisoformat(stamp.strip()) for stamp in stamps]
    return max([entry.published, *(m if m.tzinfo else m.replace(tzinfo=site.expected.tz) for m in moments)])


def test_last_build_date_is_the_newest_item_date(site):
    """lastBuildDate is the latest date or `updated` of the feed's items, never the clock: same content, same bytes."""
    by_url = {site.expected.absolute(site.expected.url(e)): e for e in site.items}
    dated_by_an_update = 0
    for *_, path in feeds(site):
        channel = ET.parse(target_file(site.out, path)).getroot().find("channel")
        items = [by_url[i.findtext("link")] for i in channel.findall("item")]
        assert items, path
        built = parsedate_to_datetime(channel.findtext("lastBuildDate"))
        assert built == max(last_change(site, e) for e in items), path
        dated_by_an_update += built != max(e.published for e in items)
    assert dated_by_an_update or site.name != "mini", "the mini fixture has feeds whose newest change is an update"


def test_a_listing_without_items_has_no_feed_and_no_1970_date(sample):
    """An empty feed would say nothing and carry no real date: it is not written, nor linked."""
    press_secretary = "vladimir-zaynetdinov"  # in the registry, in no item
    assert not sample.expected.listing(NOW, "en", "officials", press_secretary)
    assert not (sample.out / "officials" / press_secretary / "rss.xml").exists()
    for feed in sample.out.rglob("rss.xml"):
        channel = ET.parse(feed).getroot().find("channel")
        assert channel.findall("item"), feed
        assert "1970" not in channel.findtext("lastBuildDate"), feed
    for page in sample.out.rglob("*.html"):
        assert f"/officials/{press_secretary}/" not in page.read_text(encoding="utf-8"), page


def test_the_archive_has_no_empty_feed_page_or_1970_date(archive):
    """Officials with nothing in Russian (the generated archive has some) get no Russian page, feed or link."""
    english = {p.parent.name for p in (archive.out / "officials").glob("*/rss.xml")}
    russian = {p.parent.name for p in (archive.out / "ru" / "officials").glob("*/rss.xml")}
    missing = english - russian
    assert missing, "the archive has an official with nothing in Russian"
    for ident in missing:
        assert not (archive.out / "ru" / "officials" / ident).exists(), ident
    for path in archive.out.rglob("*"):
        if path.suffix in (".html", ".xml"):
            text = path.read_text(encoding="utf-8")
            assert "1970-01-01" not in text and "Jan 1970" not in text, path
            assert not any(f"/ru/officials/{ident}/" in text for ident in missing), path
