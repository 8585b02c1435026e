"""Generate a seeded synthetic news archive in csto_site's content format.

    python bench/generate.py OUT --n 10000 [--seed 1]

N is the number of item files (one news item in one language, as the model counts
them); about a quarter of the English items also get a Russian translation. Items
have about 540 words (paragraphs, `##` and `###` headings, lists, quotes, tables,
footnotes), spread over 6 sections, 40 officials and 20 organizations, dated over
twenty years. The same seed always gives the same files, byte for byte.
"""

from __future__ import annotations

import argparse
import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path


def vocabulary(text: str) -> tuple[str, ...]:
    """Split a run of words."""
    return tuple(text.split())


# Items the benchmark adds are the newest of the archive, dated from here on.
ADDED_FROM = datetime(2025, 1, 1, 9, 0)
SECTIONS = (
    ("csto-news", "CSTO news", "Новости ОДКБ"),
    ("speeches", "Speeches", "Выступления"),
    ("interviews", "Interviews", "Интервью"),
    ("statements", "Statements", "Заявления"),
    ("events", "Events", "Мероприятия"),
    ("documents", "Documents", "Документы"),
)
FIRST_EN = (
    "Anna",
    "Boris",
    "Dmitry",
    "Elena",
    "Farid",
    "Galina",
    "Igor",
    "Karina",
    "Lev",
    "Marat",
    "Nina",
    "Oleg",
    "Pavel",
    "Rustam",
    "Sergey",
    "Timur",
    "Ulan",
    "Viktor",
    "Yuri",
    "Zarina",
)
FIRST_RU = (
    "Анна",
    "Борис",
    "Дмитрий",
    "Елена",
    "Фарид",
    "Галина",
    "Игорь",
    "Карина",
    "Лев",
    "Марат",
    "Нина",
    "Олег",
    "Павел",
    "Рустам",
    "Сергей",
    "Тимур",
    "Улан",
    "Виктор",
    "Юрий",
    "Зарина",
)
LAST_EN = (
    "Abdullaev",
    "Belov",
    "Chernov",
    "Dosanov",
    "Egorov",
    "Frolov",
    "Gusev",
    "Ismailov",
    "Kuznetsov",
    "Lebedev",
    "Mamedov",
    "Nurlanov",
    "Orlov",
    "Petrov",
    "Rakhimov",
    "Sokolov",
    "Tokaev",
    "Umarov",
    "Volkov",
    "Zakirov",
)
LAST_RU = (
    "Абдуллаев",
    "Белов",
    "Чернов",
    "Досанов",
    "Егоров",
    "Фролов",
    "Гусев",
    "Исмаилов",
    "Кузнецов",
    "Лебедев",
    "Мамедов",
    "Нурланов",
    "Орлов",
    "Петров",
    "Рахимов",
    "Соколов",
    "Токаев",
    "Умаров",
    "Волков",
    "Закиров",
)
WORDS_EN = vocabulary(
    "security treaty organization member states cooperation meeting council secretary general delegation "
    "collective defence region border peace stability exercise forces command agreement statement session "
    "ministers foreign affairs military political crisis response training joint operation mandate summit "
    "consultation working group draft document protocol plan programme threat terrorism extremism drug "
    "trafficking migration information cyber space nuclear weapons conflict settlement dialogue partner "
    "mission observer report annual budget staff headquarters capital visit talks bilateral multilateral "
    "initiative framework strategy priority chairmanship presidency rotation republic federation kingdom "
    "agenda year month week day today yesterday tomorrow important new further common shared regional global "
    "international national public official formal informal successful constructive productive practical "
    "discussed adopted signed approved noted stressed welcomed reaffirmed underlined proposed considered "
    "emphasised expressed agreed decided invited attended opened closed held took part participants experts "
    "representatives officers heads leaders parties sides countries nations institutions bodies agencies"
)
WORDS_RU = vocabulary(
    "безопасность договор организация государства члены сотрудничество встреча совет генеральный секретарь "
    "делегация коллективная оборона регион граница мир стабильность учения силы командование соглашение "
    "заявление сессия министры иностранных дел военный политический кризис реагирование подготовка "
    "совместная операция мандат саммит консультации рабочая группа проект документ протокол план программа "
    "угроза терроризм экстремизм наркотики миграция информационный киберпространство ядерное оружие "
    "конфликт урегулирование диалог партнер миссия наблюдатель доклад годовой бюджет штаб столица визит "
    "переговоры двусторонние многосторонние инициатива стратегия приоритет председательство республика "
    "федерация повестка год месяц неделя сегодня важный новый общий региональный международный "
    "национальный официальный успешный конструктивный практический обсудили приняли подписали утвердили "
    "отметили подчеркнули приветствовали предложили рассмотрели выразили согласились решили пригласили "
    "участники эксперты представители руководители стороны страны институты органы агентства"
)
START = datetime(2005, 1, 10, 9, 0)
SPAN_DAYS = 20 * 365
WORDS_PER_ITEM = 540
TRANSLATED_SHARE = 0.25


@dataclass(frozen=True)
class Person:
    """A generated official or organization: id, English and Russian name."""

    id: str
    en: str
    ru: str


def sentence(rng: random.Random, words: tuple[str, ...] | list[str], n: int) -> str:
    """Return a capitalised sentence of n random words."""
    text = " ".join(rng.choice(words) for _ in range(n))
    return text[0].upper() + text[1:] + "."


def table(rng: random.Random, words: tuple[str, ...] | list[str]) -> str:
    """Return a Markdown table of 2 to 4 columns, some aligned, with a header row."""
    columns = rng.randint(2, 4)
    header = [sentence(rng, words, rng.randint(1, 2)).rstrip(".") for _ in range(columns)]
    rule = [rng.choice(("---", ":---", ":---:", "---:")) for _ in range(columns)]
    rows = [
        [str(rng.randint(1, 999)) if c else rng.choice(words) for c in range(columns)] for _ in range(rng.randint(2, 5))
    ]
    return "\n".join("| " + " | ".join(row) + " |" for row in (header, rule, *rows))


def body(rng: random.Random, words: tuple[str, ...] | list[str], names: list[str]) -> str:
    """Return a Markdown body of about WORDS_PER_ITEM words.

    Paragraphs (with emphasis, links and footnotes), `##` and `###` headings (a `###` may come before any
    `##`, as authors write them), lists, quotes and tables: what the press office writes.
    """
    blocks: list[str] = []
    notes: list[str] = []
    count = 0
    while count < WORDS_PER_ITEM:
        kind = rng.random()
        if kind < 0.06 and blocks:
            blocks.append(f"## {sentence(rng, words, rng.randint(3, 6)).rstrip('.')}")
            count += 5
        elif kind < 0.09 and blocks:
            blocks.append(f"### {sentence(rng, words, rng.randint(2, 5)).rstrip('.')}")
            count += 4
        elif kind < 0.17:
            items = [f"- {sentence(rng, words, rng.randint(4, 9))}" for _ in range(rng.randint(2, 4))]
            blocks.append("\n".join(items))
            count += 6 * len(items)
        elif kind < 0.20 and blocks:
            quote = " ".join(sentence(rng, words, rng.randint(8, 14)) for _ in range(rng.randint(1, 3)))
            blocks.append(f"> {quote}")
            count += len(quote.split())
        elif kind < 0.22 and blocks:
            blocks.append(table(rng, words))
            count += 12
        else:
            sentences = []
            for _ in range(rng.randint(3, 6)):
                s = sentence(rng, words, rng.randint(8, 18))
                if rng.random() < 0.2:
                    s = f"{rng.choice(names)} said: *{s}*"
                elif rng.random() < 0.1:
                    s = s.rstrip(".") + " ([details](https://odkb-csto.org/))."
                elif rng.random() < 0.05:
                    notes.append(f"[^{len(notes) + 1}]: {sentence(rng, words, rng.randint(5, 12))}")
                    s = s.rstrip(".") + f"[^{len(notes)}]."
                sentences.append(s)
                count += len(s.split())
            blocks.append(" ".join(sentences))
    return "\n\n".join(blocks + notes) + "\n"


def registry(rng: random.Random) -> tuple[list[Person], list[Person]]:
    """Return 40 officials and 20 organizations with distinct names."""
    officials: list[Person] = []
    used: set[tuple[int, int]] = set()
    while len(officials) < 40:
        pick = (rng.randrange(len(FIRST_EN)), rng.randrange(len(LAST_EN)))
        if pick in used:
            continue
        used.add(pick)
        first, last = pick
        officials.append(
            Person(
                f"{FIRST_EN[first]}-{LAST_EN[last]}".lower(),
                f"{FIRST_EN[first]} {LAST_EN[last]}",
                f"{FIRST_RU[first]} {LAST_RU[last]}",
            )
        )
    organizations = [
        Person(f"org-{i + 1:02d}", f"Organization number {i + 1}", f"Организация номер {i + 1}") for i in range(20)
    ]
    return officials, organizations


def write_site(content: Path, officials: list[Person], organizations: list[Person]) -> None:
    """Write site.yaml, the registries and the section indexes."""
    (content / "site.yaml").write_text(
        "title: {en: Synthetic Archive, ru: Синтетический архив}\n"
        "description: {en: A generated archive for benchmarks., ru: Архив для замеров.}\n"
        "base_url: https://bench.example.org\nlanguages: [en, ru]\ntimezone: Europe/Moscow\nfeed_length: 50\n"
        'press_contact:\n  name: {en: The Press Office, ru: Пресс-служба}\n  phones: ["+7 495-000-00-00"]\n',
        encoding="utf-8",
    )
    lines = []
    for p in officials:
        lines += [
            f"{p.id}:",
            f"  name: {{en: {p.en}, ru: {p.ru}}}",
            "  roles:",
            "    - {title: {en: Representative, ru: Представитель}, from: 2005-01-01}",
        ]
    (content / "officials.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = []
    for o in organizations:
        lines += [
            f"{o.id}:",
            f"  short: {{en: ORG{o.id[-2:]}, ru: ОРГ{o.id[-2:]}}}",
            f"  name: {{en: {o.en}, ru: {o.ru}}}",
        ]
    (content / "organizations.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for sid, en, ru in SECTIONS:
        folder = content / sid
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "_index.md").write_text(
            f"---\ntitle: {en}\ndescription: {en} of the archive.\n---\n", encoding="utf-8"
        )
        (folder / "_index.ru.md").write_text(f"---\ntitle: {ru}\ndescription: {ru} архива.\n---\n", encoding="utf-8")


def item_text(
    title: str, when: datetime, officials: list[str], organizations: list[str], text: str, summary: str = ""
) -> str:
    """Format one item file: front matter and body."""
    head = [f'title: "{title}"', f"date: {when:%Y-%m-%d %H:%M}"]
    if officials:
        head.append("officials: [" + ", ".join(officials) + "]")
    if organizations:
        head.append("organizations: [" + ", ".join(organizations) + "]")
    if summary:
        head.append(f'summary: "{summary}"')
    return "---\n" + "\n".join(head) + "\n---\n" + text


def generate(content: Path, n: int, seed: int = 1) -> list[Path]:
    """Write a synthetic archive of n item files into `content`; return the item paths in order."""
    if content.exists():
        shutil.rmtree(content)
    content.mkdir(parents=True)
    rng = random.Random(seed)
    officials, organizations = registry(rng)
    write_site(content, officials, organizations)
    originals = round(n / (1 + TRANSLATED_SHARE))
    translations = n - originals
    translated = set(rng.sample(range(originals), translations))
    paths: list[Path] = []
    for i in range(originals):
        when = START + timedelta(minutes=round(i * SPAN_DAYS * 24 * 60 / max(originals, 1)))
        section = SECTIONS[rng.randrange(len(SECTIONS))][0]
        people = rng.sample(officials, rng.choice((0, 1, 1, 2, 2, 3)))
        orgs = rng.sample(organizations, rng.choice((0, 1, 1, 2)))
        words = [*WORDS_EN, *(p.en.split()[1] for p in people)]
        title = f"{sentence(rng, words, rng.randint(5, 10)).rstrip('.')} {i + 1}"
        summary = sentence(rng, words, 20) if rng.random() < 0.5 else ""
        stem = f"{when:%Y-%m-%d}-{i + 1:06d}"
        path = content / section / f"{when:%Y}" / f"{stem}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            item_text(
                title,
                when,
                [p.id if j % 2 else p.en for j, p in enumerate(people)],
                [o.id for o in orgs],
                body(rng, words, [p.en for p in people] or ["The Secretary"]),
                summary,
            ),
            encoding="utf-8",
        )
        paths.append(path)
        if i in translated:
            ru_words = [*WORDS_RU, *(p.ru.split()[1] for p in people)]
            ru_title = f"{sentence(rng, ru_words, rng.randint(5, 10)).rstrip('.')} {i + 1}"
            ru_path = path.with_name(f"{stem}.ru.md")
            ru_path.write_text(
                item_text(
                    ru_title,
                    when,
                    [p.ru for p in people],
                    [o.id for o in orgs],
                    body(rng, ru_words, [p.ru for p in people] or ["Секретарь"]),
                ),
                encoding="utf-8",
            )
            paths.append(ru_path)
    return paths


def new_item(content: Path, number: int, when: datetime) -> Path:
    """Write one more English item, as the press secretary would add it."""
    rng = random.Random(number)
    path = content / SECTIONS[0][0] / f"{when:%Y}" / f"{when:%Y-%m-%d}-new-{number}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    title = f"{sentence(rng, WORDS_EN, 8).rstrip('.')} new {number}"
    path.write_text(
        item_text(title, when, [], ["org-01"], body(rng, list(WORDS_EN), ["The Secretary"])), encoding="utf-8"
    )
    return path


def added_item(content: Path, number: int) -> Path:
    """Write the benchmark's `number`-th added item: the newest of the archive, in January 2025."""
    return new_item(content, number, ADDED_FROM.replace(day=1 + number % 28))


def main() -> None:
    """Parse the command line and write the archive."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="content folder to (re)create")
    parser.add_argument("--n", type=int, default=1000, help="number of item files (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args()
    paths = generate(args.out, args.n, args.seed)
    print(f"wrote {len(paths)} items to {args.out}")


if __name__ == "__main__":
    main()
