"""Author-year bibliography styles for the book (pybtex and sphinxcontrib-bibtex plugins).

``_config.yml`` selects them: ``bibtex_default_style: mildip`` (the reference list) and
``bibtex_reference_style: mildip_author_year`` (citations in the text).

- Every work gets the label its citations show, "Author, Year", with a, b, c... added when two
  works would otherwise share a label ("Vine, 2015a", "Vine, 2015b"; "n.d.-a" for undated works),
  in the order of the reference list; the list is sorted by author, year and title and shows
  those labels.
- Titles are printed as written in the ``.bib`` files: pybtex's stock styles lower-case every
  word after the first ("the north atlantic treaty"), which breaks proper nouns.
- A year that the entry already names in ``howpublished``, ``note`` or ``organization``
  (newspaper articles: "Reuters, 23 October 2014") is not printed a second time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import ascii_lowercase

import pybtex.plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import field, node, sentence
from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.referencing.extra_year import ExtraYearReferenceStyle
from sphinxcontrib.bibtex.style.template import join, join2, post_text, pre_text, reference

FORMATTING = "mildip"
REFERENCING = "mildip_author_year"
NO_DATE = "n.d."
DATE_FIELDS = ("howpublished", "note", "organization")


@dataclass
class _StyleData:
    person: PersonStyle


def author_text(entry) -> str:
    """The author part of a citation, exactly as the text shows it ("Reiter and Poast")."""
    person = PersonStyle()
    template = person.author_or_editor_or_title(full=False)
    return template.format_data({"entry": entry, "style": _StyleData(person)}).render_as("text")


def year_text(entry) -> str:
    return entry.fields.get("year", "").strip() or NO_DATE


def suffix(index: int) -> str:
    """a, b, ..., z, aa, ab, ...: the suffix of the index-th work sharing a label."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = ascii_lowercase[rest] + letters
    return letters


class AuthorYearLabels(BaseLabelStyle):
    """Labels "Author, Year", with a/b/c suffixes for works that would share one."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        bases = [f"{author_text(e)}, {year_text(e)}" for e in entries]
        counts: dict[str, int] = {}
        for base in bases:
            counts[base] = counts.get(base, 0) + 1
        seen: dict[str, int] = {}
        for base in bases:
            if counts[base] == 1:
                yield base
            else:
                index = seen.get(base, 0)
                seen[base] = index + 1
                yield base + ("-" if base.endswith(NO_DATE) else "") + suffix(index)


def label_year(label: str) -> str:
    """The year part of a label ("2015a" of "Vine, 2015a")."""
    return label.rsplit(", ", 1)[-1]


class Style(UnsrtStyle):
    """pybtex's unsrt templates, sorted by author and year, with author-year labels, titles as
    written and no year printed twice."""

    default_sorting_style = "author_year_title"
    default_name_style = "lastfirst"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label_style = AuthorYearLabels()
        self.format_labels = self.label_style.format_labels
        self.sort = self.sort_as_cited  # pybtex binds the sorting style's method in __init__

    def sort_as_cited(self, entries):
        """By the author as cited, then year, then title: the reference list reads like the labels."""
        return sorted(entries, key=lambda e: (author_text(e).casefold(), year_text(e),
                                              e.fields.get("title", "").casefold()))

    def format_title(self, e, which, as_sentence=True):
        title = field(which)
        return sentence[title] if as_sentence else title

    def format_entry(self, label, entry, bib_data=None):
        year = entry.fields.get("year", "").strip()
        if year and any(re.search(rf"\b{re.escape(year)}\b", entry.fields.get(name, "")) for name in DATE_FIELDS):
            trimmed = entry.__class__(entry.type, fields={k: v for k, v in entry.fields.items() if k != "year"},
                                      persons=entry.persons)
            trimmed.key = entry.key
            try:
                return super().format_entry(label, trimmed, bib_data=bib_data)
            except Exception:  # a template that needs the year: keep it
                pass
        return super().format_entry(label, entry, bib_data=bib_data)


@node
def labelled_year(children, data):
    """The year of a citation with its a/b suffix, taken from the entry's label."""
    assert not children
    return Text(label_year(data["formatted_entry"].label))


class _Parenthetical(BasicAuthorYearParentheticalReferenceStyle):
    def inner(self, role_name):
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text,
            reference[join(sep=self.author_year_sep)[
                self.person.author_or_editor_or_title(full="s" in role_name), labelled_year]],
            post_text,
        ]


class _Textual(BasicAuthorYearTextualReferenceStyle):
    def inner(self, role_name):
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[self.bracket.left,
                 join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[pre_text, reference[labelled_year], post_text],
                 self.bracket.right],
        ]


class _Year(ExtraYearReferenceStyle):
    def inner(self, role_name):
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[pre_text, reference[labelled_year], post_text]


@dataclass
class ReferenceStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author-year citations in parentheses, with the year (and suffix) of the label."""

    def __post_init__(self):
        for name in ("bracket_textual", "bracket_parenthetical", "bracket_author", "bracket_label", "bracket_year"):
            setattr(self, name, BracketStyle(left="(", right=")"))
        super().__post_init__()
        replace = {
            BasicAuthorYearParentheticalReferenceStyle: _Parenthetical,
            BasicAuthorYearTextualReferenceStyle: _Textual,
            ExtraYearReferenceStyle: _Year,
        }
        for index, style in enumerate(self.styles):
            cls = replace.get(type(style))
            if cls is not None:
                new = cls.__new__(cls)
                new.__dict__.update(style.__dict__)
                self.styles[index] = new
        # the role lookup table of GroupReferenceStyle points at the old objects: rebuild it
        self.role_style = {name: style for style in self.styles for name in style.role_names()}


def register() -> None:
    """Make the styles known to pybtex (idempotent)."""
    import sphinxcontrib.bibtex.plugin

    pybtex.plugin.register_plugin("pybtex.style.formatting", FORMATTING, Style)
    sphinxcontrib.bibtex.plugin.register_plugin("sphinxcontrib.bibtex.style.referencing", REFERENCING, ReferenceStyle)
