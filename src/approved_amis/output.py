"""Findings and the output formats, in one place. Writers stream: a row is printed when it is known,
so memory stays flat however large the fleet. Formats: table (default), json, csv; more can register
in WRITERS."""

from __future__ import annotations

import csv
import json
import os
import shutil
import textwrap
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol, TextIO

from approved_amis.classify import Verdict


class Row(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Finding:
    """One use of an AMI and its verdict.

    The audit locates a use by `resource_id` and `region` (and `account_id` across an organization); a
    plan check by `address`. Location fields left as None are omitted from JSON; `ami_id` is None when
    the AMI is not known yet.
    """

    resource_type: str
    ami_id: str | None
    verdict: Verdict
    reason: str
    resource_id: str | None = None
    region: str | None = None
    address: str | None = None
    account_id: str | None = None
    kind: str | None = None  # what the finding is about (classify.AMI, FLOATING_VERSION, ...); None: an AMI
    image_allowed: bool | None = None  # AWS's Allowed AMIs verdict, where the region reports one

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        if self.account_id is not None:
            row["account_id"] = self.account_id
        if self.address is not None:
            row["address"] = self.address
        row["resource_type"] = self.resource_type
        if self.kind is not None:
            row["kind"] = self.kind
        if self.resource_id is not None:
            row["resource_id"] = self.resource_id
        if self.region is not None:
            row["region"] = self.region
        row.update(ami_id=self.ami_id, verdict=self.verdict.value, reason=self.reason)
        if self.image_allowed is not None:
            row["image_allowed"] = self.image_allowed
        return row


def reason_via(reason: str, via: str | None) -> str:
    """A finding's reason, and the template, configuration or resource the use reaches its AMI through:
    the reason first, as a table row is read."""
    return f"{reason} (via {via})" if via else reason


AUDIT_FIELDS = ("resource_type", "resource_id", "kind", "region", "ami_id", "verdict", "reason")


def verdict_summary(counts: Counter[Verdict], noun: str = "AMI uses") -> str:
    """`12 AMI uses: 8 approved, 3 unapproved, 1 unknown`."""
    total = sum(counts.values())
    parts = ", ".join(f"{counts.get(v, 0)} {v.value}" for v in Verdict)
    return f"{total} {noun}: {parts}"


################################################################################
# Layouts: which columns a command shows
################################################################################


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[dict[str, Any]], str]
    width: int = 0


def field(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda row: "" if row.get(name) is None else str(row[name])


@dataclass(frozen=True)
class Layout:
    """Table columns and CSV fields for one kind of row."""

    columns: tuple[Column, ...]
    csv_fields: tuple[str, ...]
    # The table starts a new group, under a heading, whenever this field changes from row to row.
    group_by: str | None = None
    group_heading: Callable[[dict[str, Any]], str] | None = None


AUDIT_LAYOUT = Layout(
    columns=(
        Column("RESOURCE", lambda row: f"{row['resource_type']} {row.get('resource_id') or ''}".strip(), 42),
        Column("REGION", field("region"), 14),
        Column("AMI", field("ami_id"), 21),
        Column("VERDICT", field("verdict"), 10),
        Column("REASON", field("reason")),
    ),
    csv_fields=AUDIT_FIELDS,
)

# Across an organization: the same columns, grouped by account (each account's rows come together).
ORGANIZATION_AUDIT_LAYOUT = Layout(
    columns=AUDIT_LAYOUT.columns,
    csv_fields=("account_id", *AUDIT_FIELDS),
    group_by="account_id",
    group_heading=lambda row: f"account {row['account_id']}",
)

# check-plan: findings by plan address, and by .tf file and line when known.
PLAN_FIELDS = ("address", "resource_type", "kind", "ami_id", "verdict", "reason", "file", "line")


def plan_layout(findings: Iterable[Finding]) -> Layout:
    """check-plan's table columns, wide enough for this plan's addresses."""
    width = max([len("ADDRESS"), *(len(f.address or "") for f in findings)])
    return Layout(
        columns=(
            Column("ADDRESS", field("address"), width),
            Column("AMI", lambda row: row.get("ami_id") or "-", 21),
            Column("VERDICT", field("verdict"), 10),
            Column("REASON", field("reason")),
        ),
        csv_fields=PLAN_FIELDS,
    )


# retire: one row per AMI this account owns; the reason shown is why it is kept, when it is.
RETIRE_LAYOUT = Layout(
    columns=(
        Column("REGION", field("region"), 14),
        Column("AMI", field("ami_id"), 21),
        Column("NAME", field("name"), 24),
        Column("AGE", lambda row: f"{row['age_days']}d", 5),
        Column("VERDICT", field("verdict"), 10),
        Column("SHARING", field("sharing"), 8),
        Column("SNAPSHOTS", lambda row: f"{len(row['snapshots'])} ({row['snapshot_size_gib']} GiB)", 14),
        Column("RECYCLE BIN", field("recycle_bin"), 11),
        Column("ACTION", field("action"), 16),
        Column("REASON", lambda row: row["kept_because"] or row["reason"]),
    ),
    csv_fields=(
        "region",
        "ami_id",
        "name",
        "creation_date",
        "age_days",
        "verdict",
        "reason",
        "in_use",
        "sharing",
        "shared_with",
        "protected",
        "last_launched",
        "usage",
        "referenced_by",
        "references_unknown",
        "recycle_bin",
        "recycle_bin_detail",
        "snapshot_size_gib",
        "action",
        "kept_because",
    ),
)


################################################################################
# Writers
################################################################################


class Writer:
    """Streams rows to `stream`; `close(summary)` ends the document. Safe to call from several threads."""

    def __init__(self, stream: TextIO, layout: Layout, summary_stream: TextIO | None = None) -> None:
        self.stream = stream
        self.layout = layout
        self.summary_stream = summary_stream
        self._lock = threading.Lock()

    def write_all(self, rows: Iterable[Row]) -> None:
        with self._lock:
            for row in rows:
                self._write(row.to_dict())

    def close(self, summary: str) -> None:
        with self._lock:
            self._close()
            self.stream.flush()
            if summary and self.summary_stream is not None:
                print(summary, file=self.summary_stream)

    def _write(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        pass


# The table lists what needs attention first: unapproved, then unknown, then approved (rows with another or
# no verdict last, in the order they came).
VERDICT_ORDER = {Verdict.UNAPPROVED.value: 0, Verdict.UNKNOWN.value: 1, Verdict.APPROVED.value: 2}
# Verdict colours on a terminal (SGR codes): red, yellow, green.
VERDICT_COLOURS = {Verdict.UNAPPROVED.value: "31", Verdict.UNKNOWN.value: "33", Verdict.APPROVED.value: "32"}
# The last column is wrapped to what the others leave of the width; below this many characters it goes
# on lines of its own, indented, under the row.
MIN_LAST_COLUMN = 24


def colour_wanted(stream: TextIO) -> bool:
    """Colour on a terminal, unless NO_COLOR is set to anything but the empty string (no-color.org)."""
    return not os.environ.get("NO_COLOR") and _isatty(stream)


def table_width(stream: TextIO) -> int | None:
    """The terminal's width (COLUMNS first, as shutil reads it) when stream is one; None otherwise: piped
    output keeps each row on one line, for grep and friends."""
    return shutil.get_terminal_size().columns if _isatty(stream) else None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class TableWriter(Writer):
    """Fixed-width columns, rows grouped by verdict (unapproved first), the last column wrapped to the
    terminal's width, verdicts in colour on a terminal; the summary line ends the table.

    Grouping holds a group's rows until it is complete: the whole table for one account, one account's
    rows across an organization (its group). json and csv stream every row as it is known."""

    def __init__(self, stream: TextIO, layout: Layout, summary_stream: TextIO | None = None) -> None:
        super().__init__(stream, layout, stream)
        self._rows = 0
        self._group: Any = None
        self._pending: list[dict[str, Any]] = []
        self._width = table_width(stream)
        self._colour = colour_wanted(stream)
        self._verdict_column = next(
            (i for i, column in enumerate(layout.columns) if column.header == "VERDICT"), None
        )

    def _fit(self, rows: list[list[str]]) -> None:
        """On a terminal, each column but the last as wide as its widest cell so far (the header's at
        least); piped, the layout's widths, the same whatever the rows."""
        headers = [column.header for column in self.layout.columns[:-1]]
        if self._width is None:
            self._widths = [column.width for column in self.layout.columns[:-1]]
            return
        previous = getattr(self, "_widths", [len(header) for header in headers])
        self._widths = [max([previous[i], *(len(cells[i]) for cells in rows)]) for i in range(len(headers))]

    def _lines(self, cells: list[str], header: bool = False) -> list[str]:
        padded = [cell.ljust(width) for cell, width in zip(cells[:-1], self._widths)]
        if self._colour and not header and self._verdict_column is not None and self._verdict_column < len(padded):
            code = VERDICT_COLOURS.get(cells[self._verdict_column])
            if code:
                padded[self._verdict_column] = f"\033[{code}m{padded[self._verdict_column]}\033[0m"
        last = cells[-1]
        if self._width is None or header:
            return ["  ".join([*padded, last]).rstrip()]
        indent = sum(width + 2 for width in self._widths)
        room = self._width - indent
        if room >= MIN_LAST_COLUMN:
            wrapped = textwrap.wrap(last, room, break_on_hyphens=False) or [""]
            return ["  ".join([*padded, wrapped[0]]).rstrip(), *(" " * indent + more for more in wrapped[1:])]
        wrapped = textwrap.wrap(last, max(self._width - 4, MIN_LAST_COLUMN), break_on_hyphens=False)
        return ["  ".join(padded).rstrip(), *("    " + more for more in wrapped)]

    def _print(self, lines: list[str]) -> None:
        for line in lines:
            print(line, file=self.stream)

    def _write(self, row: dict[str, Any]) -> None:
        group_by = self.layout.group_by
        if group_by and self._pending and row.get(group_by) != self._pending[-1].get(group_by):
            self._flush()
        self._pending.append(row)

    def _flush(self) -> None:
        rows = sorted(self._pending, key=lambda row: VERDICT_ORDER.get(row.get("verdict"), len(VERDICT_ORDER)))
        self._pending = []
        cells = [[column.value(row) for column in self.layout.columns] for row in rows]
        self._fit(cells)
        for row, row_cells in zip(rows, cells):
            if self._rows == 0:
                self._print(self._lines([column.header for column in self.layout.columns], header=True))
            if self.layout.group_by and self.layout.group_heading and row.get(self.layout.group_by) != self._group:
                self._group = row.get(self.layout.group_by)
                heading = self.layout.group_heading(row)
                print(("\n" if self._rows else "") + (f"\033[1m{heading}\033[0m" if self._colour else heading), file=self.stream)
            self._rows += 1
            self._print(self._lines(row_cells))

    def _close(self) -> None:
        self._flush()
        if self._rows:
            print(file=self.stream)


class JsonWriter(Writer):
    """A JSON list, one object per row; the summary goes to the summary stream, never into the JSON."""

    def __init__(self, stream: TextIO, layout: Layout, summary_stream: TextIO | None = None) -> None:
        super().__init__(stream, layout, summary_stream)
        self._rows = 0

    def _write(self, row: dict[str, Any]) -> None:
        self.stream.write(("[\n  " if self._rows == 0 else ",\n  ") + json.dumps(row))
        self._rows += 1

    def _close(self) -> None:
        self.stream.write("[]\n" if self._rows == 0 else "\n]\n")


class CsvWriter(Writer):
    """A header line, then one line per row with the layout's fields."""

    def __init__(self, stream: TextIO, layout: Layout, summary_stream: TextIO | None = None) -> None:
        super().__init__(stream, layout, summary_stream)
        self._csv = csv.DictWriter(stream, fieldnames=list(layout.csv_fields), extrasaction="ignore")
        self._csv.writeheader()

    def _write(self, row: dict[str, Any]) -> None:
        self._csv.writerow(row)


WRITERS: dict[str, type[Writer]] = {"table": TableWriter, "json": JsonWriter, "csv": CsvWriter}


def make_writer(fmt: str, stream: TextIO, layout: Layout, summary_stream: TextIO | None = None) -> Writer:
    """The writer for a format name in WRITERS. The table ends with the summary line; machine-readable
    formats send it to summary_stream (stderr, say) so that their output stays parseable."""
    return WRITERS[fmt](stream, layout, summary_stream)


class StatusLine:
    """One status line redrawn in place on `stream`, only when it is a terminal, at most every 0.2 s
    unless a redraw is forced. Safe to call from several threads."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._enabled = stream.isatty()
        self._lock = threading.Lock()
        self._shown = 0.0

    def _show(self, text: Callable[[], str], force: bool = False) -> None:
        """Redraw with `text()`; call it holding `self._lock`."""
        if force or time.monotonic() - self._shown > 0.2:
            self._shown = time.monotonic()
            self._stream.write(f"\r{text()}\033[K")
            self._stream.flush()

    def clear(self) -> None:
        if self._enabled:
            self._stream.write("\r\033[K")
            self._stream.flush()


class Heartbeat(StatusLine):
    """`retire: 1 of 4 regions checked, 12 s` on `stream` while long work runs, redrawn every `interval`
    seconds by a thread of its own whatever the work is doing, so that a terminal never sits silent; only
    when `stream` is a terminal. A context manager: the line is cleared on exit. Safe from several threads."""

    def __init__(self, stream: TextIO, label: str, total: int | None, unit: str = "regions", interval: float = 1.0) -> None:
        super().__init__(stream)
        self._label, self._total, self._unit, self._interval = label, total, unit, interval
        self._done = 0
        self._steps: dict[str, str] = {}
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _text(self) -> str:
        elapsed = time.monotonic() - self._started
        if self._total is None:
            return f"{self._label}: starting, {elapsed:.0f} s"
        doing = "".join(f"; {where} {what}" for where, what in self._steps.items())
        return f"{self._label}: {self._done} of {self._total} {self._unit} checked, {elapsed:.0f} s{doing}"

    def expect(self, total: int) -> None:
        """How many units there are, once known (until then the line says `starting`)."""
        with self._lock:
            self._total = total

    def step(self, where: str, doing: str) -> None:
        """Say what one unit (`us-east-1`) is doing now (`weighing 12 AMI(s)`), until it is done."""
        with self._lock:
            self._steps[where] = doing
            if self._enabled:
                self._show(self._text, force=True)

    def tick(self, result: Any = None) -> Any:
        """Count one unit done (and redraw); return `result`, so that a mapped function can be wrapped."""
        with self._lock:
            self._done += 1
            if self._enabled:
                self._show(self._text, force=True)
        return result

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                self._show(self._text, force=True)

    def __enter__(self) -> "Heartbeat":
        self._started = time.monotonic()
        if self._enabled:
            with self._lock:
                self._show(self._text, force=True)
            self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.clear()


################################################################################
# SARIF 2.1.0: findings for code-scanning views
################################################################################

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

_TAGS = {"tags": ["security", "ec2", "ami"]}

# One rule per kind of finding; approved uses are not results. A result's level is its rule's, except that
# an unknown verdict is a warning under any rule.
SARIF_RULES: dict[str, dict[str, Any]] = {
    "unapproved-ami": {
        "id": "unapproved-ami",
        "name": "UnapprovedAmi",
        "shortDescription": {"text": "EC2 launch from an AMI the approval rule does not approve"},
        "fullDescription": {
            "text": "The AMI carries neither the approval tag with an approved value, nor an approved ID or owner: "
            "the module's IAM policy denies this launch and AWS Config flags the instance."
        },
        "help": {
            "text": "Use an approved AMI (tagged with the approval tag in this account by an AMI publisher), or "
            "approve this AMI by ID or owner in the module's inputs (approved_ami_ids, approved_ami_owners) and "
            "the CLI's rule (--ami-id, --owner). To accept this launch as it is, waive it: a comment "
            "`# approved-amis:ignore <reason>` in the resource block, or --baseline FILE."
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {**_TAGS, "security-severity": "7.0"},
    },
    "unknown-ami": {
        "id": "unknown-ami",
        "name": "UnknownAmi",
        "shortDescription": {"text": "EC2 launch from an AMI whose approval cannot be decided"},
        "fullDescription": {
            "text": "The AMI is known only after apply, picked by AWS at launch, not found (deregistered, never "
            "existed, or in another region: AMI IDs are regional), not available, or tagged with two approval "
            "keys that differ only in letter case, of which AWS does not say which one IAM reads."
        },
        "help": {
            "text": "Make the AMI known at plan time (a data source or a variable), name the template version the "
            "launch takes, or approve the AMI by ID or owner. The reason says which applies."
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {**_TAGS, "security-severity": "4.0"},
    },
    "floating-version": {
        "id": "floating-version",
        "name": "FloatingLaunchTemplateVersion",
        "shortDescription": {"text": "Group or fleet that launches whatever version $Latest or $Default names later"},
        "fullDescription": {
            "text": "An Auto Scaling group, or a fleet that maintains capacity, launches from $Latest, $Default or no "
            "version: every later launch takes the version named then, whatever its AMI, without checking the "
            "caller's ec2:RunInstances. EC2 Fleet and Spot Fleet require a version."
        },
        "help": {
            "text": "Pin a version number (for a template the plan manages, `version = aws_launch_template.x."
            "latest_version`), so that a new version with another AMI needs a change that check-plan sees."
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {**_TAGS, "security-severity": "6.0"},
    },
    "launch-configuration": {
        "id": "launch-configuration",
        "name": "LaunchConfiguration",
        "shortDescription": {"text": "Launch configuration, launched without checking the caller's ec2:RunInstances"},
        "fullDescription": {
            "text": "Auto Scaling launches from a launch configuration without checking the caller's "
            "ec2:RunInstances, so the tag condition of the IAM policy never applies; only an AMI approved by ID "
            "(autoscaling:ImageId) clears it. Accounts created since 2024-10-01 cannot create launch "
            "configurations."
        },
        "help": {
            "text": "Move the group to a launch template with a pinned version, or approve its AMI by ID."
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {**_TAGS, "security-severity": "6.0"},
    },
    "ami-parameter": {
        "id": "ami-parameter",
        "name": "AmiParameterOutsideApprovedPaths",
        "shortDescription": {"text": "Image read from an SSM parameter outside the approved parameter paths"},
        "fullDescription": {
            "text": "The launch's image is `resolve:ssm:<parameter>`, read at each launch: whoever can put that "
            "parameter chooses the AMI of every later launch, and the parameter is not under the approved "
            "parameter paths (ami_parameter_paths) that only AMI publishers may change."
        },
        "help": {
            "text": "Read the image from a parameter under an approved path, or add the path to "
            "ami_parameter_paths (--ami-parameter-path) when only publishers can put it."
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {**_TAGS, "security-severity": "6.0"},
    },
}

# The rule of each kind of finding (`kind` of the row); an AMI use by its verdict.
_KIND_RULES = {kind: kind for kind in ("floating-version", "launch-configuration", "ami-parameter")}


def sarif_rule(row: dict[str, Any]) -> str | None:
    """The SARIF rule of a row, None for an approved use (not a result)."""
    verdict = Verdict(row["verdict"])
    if verdict is Verdict.APPROVED:
        return None
    if verdict is Verdict.UNKNOWN:
        return "unknown-ami"
    return _KIND_RULES.get(str(row.get("kind") or ""), "unapproved-ami")


class SarifWriter(Writer):
    """One SARIF run: a result per finding that is not approved, under the rule of its kind, located at the
    row's `file` and `line` when known and by its logical name (`address`, or region/type/ID) always. A
    waived row (`waiver`) carries a SARIF suppression with its justification."""

    def __init__(self, stream: TextIO, layout: Layout, summary_stream: TextIO | None = None) -> None:
        super().__init__(stream, layout, summary_stream)
        self._results = 0
        self._rule_index = {rule: index for index, rule in enumerate(SARIF_RULES)}

    def _start(self) -> None:
        from approved_amis import __version__

        driver = {"name": "approved-amis", "version": __version__, "rules": list(SARIF_RULES.values())}
        self.stream.write(f'{{\n  "$schema": {json.dumps(SARIF_SCHEMA)},\n  "version": {json.dumps(SARIF_VERSION)},\n')
        self.stream.write(f'  "runs": [\n    {{\n      "tool": {json.dumps({"driver": driver})},\n      "results": [')

    def _write(self, row: dict[str, Any]) -> None:
        rule_id = sarif_rule(row)
        if rule_id is None:
            return
        if self._results == 0:
            self._start()
        self.stream.write(("\n        " if self._results == 0 else ",\n        ") + json.dumps(self._result(row, rule_id)))
        self._results += 1

    def _close(self) -> None:
        if self._results == 0:
            self._start()
        self.stream.write("\n      ]\n    }\n  ]\n}\n")

    def _result(self, row: dict[str, Any], rule_id: str) -> dict[str, Any]:
        rule = SARIF_RULES[rule_id]
        name = row.get("address") or "/".join(
            str(row[key]) for key in ("region", "resource_type", "resource_id") if row.get(key)
        )
        if row.get("kind") in ("floating-version", "ami-parameter"):
            text = f"{name}: {row.get('reason', '')}"
        else:
            ami = row.get("ami_id") or "an AMI not known at plan time"
            text = f"{name} launches {ami}: {row.get('reason', '')}"
        location: dict[str, Any] = {
            "logicalLocations": [{"fullyQualifiedName": name, "kind": "resource"}],
        }
        if row.get("file"):
            physical: dict[str, Any] = {"artifactLocation": {"uri": row["file"], "uriBaseId": "%SRCROOT%"}}
            if row.get("line"):
                physical["region"] = {"startLine": int(row["line"])}
            location = {"physicalLocation": physical, **location}
        result: dict[str, Any] = {
            "ruleId": rule["id"],
            "ruleIndex": self._rule_index[rule_id],
            "level": rule["defaultConfiguration"]["level"],
            "message": {"text": text},
            "locations": [location],
            "partialFingerprints": {"approvedAmisUse/v2": f"{name}|{row.get('ami_id') or ''}|{row.get('kind') or ''}"},
            "properties": {k: row[k] for k in ("resource_type", "kind", "ami_id", "verdict") if k in row},
        }
        waiver = row.get("waiver")
        if isinstance(waiver, dict):
            result["suppressions"] = [
                {"kind": waiver["kind"], "status": "accepted", "justification": waiver["justification"]}
            ]
        return result


WRITERS["sarif"] = SarifWriter
