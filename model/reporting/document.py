"""A report as a list of blocks, printed two ways: a self-contained HTML page and an A4 PDF typeset by Typst.

The report is written once as headings, paragraphs, lists, tables and figures
(``Heading``, ``Paragraph``, ``Bullets``, ``Table``, ``Figure``, ``PageBreak``);
``to_html`` prints it as one HTML page (inline CSS, charts embedded) and
``to_typst`` as Typst markup that ``typeset_pdf`` compiles with the Typst
compiler from its PyPI package: A4 pages with running page numbers and a
running header, numbered captions for tables and figures, real tables whose
number columns are right-aligned, and the CJK font embedded. Every piece of
text goes into Typst as a string literal, so nothing in a scenario's wording
is read as markup.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Heading:
    """A section heading (level 1 or 2)."""

    text: str
    level: int = 1


@dataclass
class Paragraph:
    """A paragraph; ``style`` is "normal", "small" (notes) or "key" (a highlighted finding)."""

    text: str
    style: str = "normal"


@dataclass
class Bullets:
    """A bulleted list."""

    items: list[str]
    style: str = "normal"


@dataclass
class Table:
    """A captioned table.

    Attributes:
        headers: column headings.
        rows: cells as text.
        numeric: per column, whether it holds numbers (right-aligned).
        caption: the numbered caption above the table.
        note: a note under the table (units, what intervals cover).
        widths: relative column widths (Typst fractions), or None for automatic widths.
    """

    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    caption: str
    note: str = ""
    widths: list[float] | None = None
    fit_numbers: bool = True


@dataclass
class Figure:
    """A chart: an image file for the PDF (relative to the report folder), PNG bytes for the HTML page."""

    path: str
    png: bytes
    caption: str
    note: str = ""


@dataclass
class PageBreak:
    """Start a new page (PDF only)."""


@dataclass
class Document:
    """A whole report.

    Attributes:
        title: the title on the first page and in the running header.
        lang: "zh" or "en".
        blocks: the content in order.
        subtitle: lines under the title.
    """

    title: str
    lang: str
    blocks: list = field(default_factory=list)
    subtitle: list[str] = field(default_factory=list)

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)


# ------------------------------------------------------------------ HTML

_CSS = (
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif;"
    "margin:2em auto;max-width:1000px;padding:0 1em;color:#222;line-height:1.55}"
    "table{border-collapse:collapse;font-size:13px;margin:0.3em 0 0.4em}"
    "td,th{border-bottom:1px solid #ccc;padding:3px 8px;vertical-align:top;text-align:left}"
    "th{border-bottom:1.5px solid #333;background:#f3f5fa}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}caption{caption-side:top;text-align:left;font-weight:bold;padding:0.6em 0 0.3em}"
    "img{max-width:100%}h2{border-bottom:1px solid #ccc;margin-top:2em}figure{margin:1.2em 0}"
    "figcaption{font-size:13px;font-weight:bold}.small{color:#555;font-size:12.5px}"
    ".key{background:#f3f7ee;border-left:4px solid #5a8f29;padding:0.4em 0.8em}.wide{overflow-x:auto}"
)


def _e(text) -> str:
    return html.escape(str(text))


def _html_table(t: Table, number: int, word: str) -> str:
    def cls(j):
        return " class='num'" if t.numeric[j] else ""
    head = "".join(f"<th{cls(j)}>{_e(h)}</th>" for j, h in enumerate(t.headers))
    body = "".join("<tr>" + "".join(f"<td{cls(j)}>{_e(c)}</td>" for j, c in enumerate(r)) + "</tr>" for r in t.rows)
    note = f"<p class='small'>{_e(t.note)}</p>" if t.note else ""
    return (f"<div class='wide'><table><caption>{_e(word)} {number}　{_e(t.caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}")


def to_html(doc: Document) -> str:
    """The document as one self-contained HTML page (no external files, scripts or links)."""
    zh = doc.lang == "zh"
    table_word, figure_word = ("表", "图") if zh else ("Table", "Figure")
    parts = [f"<!DOCTYPE html><html lang='{'zh-CN' if zh else 'en'}'><head><meta charset='utf-8'>",
             f"<title>{_e(doc.title)}</title><style>{_CSS}</style></head><body>", f"<h1>{_e(doc.title)}</h1>"]
    parts += [f"<p class='small'>{_e(line)}</p>" for line in doc.subtitle]
    tables = figures = 0
    for b in doc.blocks:
        if isinstance(b, Heading):
            parts.append(f"<h{b.level + 1}>{_e(b.text)}</h{b.level + 1}>")
        elif isinstance(b, Paragraph):
            cls = f" class='{b.style}'" if b.style != "normal" else ""
            parts.append(f"<p{cls}>{_e(b.text)}</p>")
        elif isinstance(b, Bullets):
            cls = f" class='{b.style}'" if b.style != "normal" else ""
            parts.append(f"<ul{cls}>" + "".join(f"<li>{_e(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            tables += 1
            parts.append(_html_table(b, tables, table_word))
        elif isinstance(b, Figure):
            figures += 1
            uri = "data:image/png;base64," + base64.b64encode(b.png).decode("ascii")
            note = f"<p class='small'>{_e(b.note)}</p>" if b.note else ""
            parts.append(f"<figure><figcaption>{_e(figure_word)} {figures}　{_e(b.caption)}</figcaption>"
                         f"<img alt='{_e(b.caption)}' src='{uri}'>{note}</figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


# ------------------------------------------------------------------ Typst


def _s(text) -> str:
    """A Typst string literal."""
    out = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{out}"'


def _preamble(doc: Document, font: str) -> str:
    zh = doc.lang == "zh"
    lang = 'lang: "zh", region: "cn"' if zh else 'lang: "en"'
    table_word, figure_word = ("表", "图") if zh else ("Table", "Figure")
    return f"""#set document(title: {_s(doc.title)})
#set page(paper: "a4", margin: (top: 22mm, bottom: 20mm, x: 17mm),
  header: context {{
    if counter(page).get().first() > 1 {{
      set text(size: 7.5pt, fill: luma(110))
      {_s(doc.title)}
      line(length: 100%, stroke: 0.3pt + luma(180))
    }}
  }},
  footer: context {{
    set text(size: 8pt, fill: luma(90))
    align(center, counter(page).display("1 / 1", both: true))
  }})
#set text(font: ({_s(font)},), size: 9.5pt, {lang})
#set par(leading: 0.75em, spacing: 1.0em)
#set heading(numbering: "1.1")
#show heading.where(level: 1): it => {{ v(0.6em); text(size: 13.5pt, weight: "bold", it); v(0.2em) }}
#show heading.where(level: 2): it => text(size: 11pt, weight: "bold", it)
#show figure: set block(breakable: true)
#show figure.where(kind: table): set figure.caption(position: top)
#show figure.caption: it => text(size: 9pt, weight: "bold", it)
#set figure(gap: 0.6em)
#set table(inset: (x: 4pt, y: 3pt), stroke: (x, y) => if y == 0 {{ (bottom: 0.8pt) }} else {{ (bottom: 0.3pt + luma(200)) }})
#show table.cell.where(y: 0): set text(weight: "bold")
#let tablefig(body, cap) = figure(body, kind: table, supplement: {_s(table_word)}, caption: cap)
#let imagefig(body, cap) = figure(body, kind: image, supplement: {_s(figure_word)}, caption: cap)
"""


def _typst_table(t: Table) -> str:
    cols = len(t.headers)
    # Number columns take the width of their longest entry (numbers never wrap); text columns share the rest.
    widths = "(" + ", ".join("auto" if t.numeric[j] and cols > 2 and t.fit_numbers else f"{(t.widths or [1] * cols)[j]}fr"
                             for j in range(cols)) + ",)"
    align = "(" + ", ".join("right" if n else "left" for n in t.numeric) + ",)"
    cells = ", ".join(_s(h) for h in t.headers)
    body = ",\n  ".join(", ".join(_s(c) for c in row) for row in t.rows)
    size = "8pt" if cols > 5 else "8.5pt"
    # A short table stays on one page with its caption; a long one may break (its header repeats).
    keep = "false" if len(t.rows) <= 25 else "true"
    out = (f"#block(breakable: {keep}, tablefig({{ set text(size: {size}); table(columns: {widths}, align: {align},\n"
           f"  table.header({cells}),\n  {body}) }}, {_s(t.caption)}))\n")
    if t.note:
        out += f"#block(above: 0.3em, below: 1.0em, text(size: 7.5pt, fill: luma(80), {_s(t.note)}))\n"
    return out


def to_typst(doc: Document, font: str) -> str:
    """The document as Typst markup (A4, page numbers, captions; ``font`` is the family used throughout)."""
    parts = [_preamble(doc, font)]
    parts.append(f"#block(below: 0.9em, text(size: 17pt, weight: \"bold\", {_s(doc.title)}))\n")
    for line in doc.subtitle:
        parts.append(f"#block(above: 0.3em, below: 0.3em, text(size: 8pt, fill: luma(80), {_s(line)}))\n")
    for b in doc.blocks:
        if isinstance(b, Heading):
            parts.append(f"#heading(level: {b.level}, {_s(b.text)})\n")
        elif isinstance(b, Paragraph):
            if b.style == "small":
                parts.append(f"#block(text(size: 8pt, fill: luma(70), {_s(b.text)}))\n")
            elif b.style == "key":
                parts.append(f"#block(fill: rgb(\"#f1f6ea\"), inset: 7pt, radius: 2pt, width: 100%, {_s(b.text)})\n")
            else:
                parts.append(f"#par({_s(b.text)})\n")
        elif isinstance(b, Bullets):
            size = "8pt" if b.style == "small" else "9.5pt"
            items = ", ".join(f"[#{_s(i)}]" for i in b.items)
            parts.append(f"#{{ set text(size: {size}); list({items}) }}\n")
        elif isinstance(b, Table):
            parts.append(_typst_table(b))
        elif isinstance(b, Figure):
            parts.append(f"#imagefig(image({_s(b.path)}, width: 100%), {_s(b.caption)})\n")
            if b.note:
                parts.append(f"#block(above: 0.2em, below: 1em, text(size: 7.5pt, fill: luma(80), {_s(b.note)}))\n")
        elif isinstance(b, PageBreak):
            parts.append("#pagebreak(weak: true)\n")
    return "".join(parts)


def typeset_pdf(doc: Document, folder: Path, name: str, font: str, font_dirs: list[str]) -> Path:
    """Write ``<name>.typ`` into ``folder`` and compile it to ``<name>.pdf`` (images are read from the folder)."""
    import typst

    source = folder / f"{name}.typ"
    source.write_text(to_typst(doc, font), encoding="utf-8")
    out = folder / f"{name}.pdf"
    typst.compile(str(source), output=str(out), root=str(folder), font_paths=font_dirs)
    return out
