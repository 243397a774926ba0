"""A trace as flat rows: one CSV (section column first) for spreadsheets and recall files, and
text tables for the terminal."""

import csv
import io
import unicodedata

COLUMNS = [
    "section",
    "material",
    "lot",
    "depth",
    "status",
    "shipment",
    "customer",
    "serial",
    "quantity",
    "shipped_at",
    "location",
    "code",
    "name",
]
SECTIONS = ("lots", "shipments", "customers", "stock", "suppliers")


def rows(result):
    """Every entry of the trace as a dict over COLUMNS, the root first."""
    data = result.as_dict()
    out = [{"section": "root", **data["root"]}]
    for section in SECTIONS:
        out += [{"section": section, **entry} for entry in data[section]]
    return [{c: row.get(c) for c in COLUMNS} for row in out]


def to_csv(result):
    """The trace as CSV text (UTF-8 with a byte-order mark, so spreadsheet programs read 中文)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows(result):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def to_tables(result):
    """The trace as aligned text tables, one per section."""
    data = result.as_dict()
    lines = [f"{data['root']['material']} {data['root']['lot']}"]
    for section in SECTIONS:
        entries = data[section]
        lines += ["", f"{section} ({len(entries)})"]
        if entries:
            keys = list(entries[0])
            cells = [keys] + [["" if e[k] is None else str(e[k]) for k in keys] for e in entries]
            widths = [max(_width(row[i]) for row in cells) for i in range(len(keys))]
            lines += ["  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def _width(text):
    """Columns `text` takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
