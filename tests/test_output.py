"""The output formats as a reader meets them: the table fits the terminal, groups verdicts (unapproved
first) and colours them on a terminal unless NO_COLOR is set; CSV and JSON name each finding's kind."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import pytest

from approved_amis.classify import AMI, FLOATING_VERSION, Verdict
from approved_amis.output import (
    AUDIT_LAYOUT,
    ORGANIZATION_AUDIT_LAYOUT,
    RETIRE_LAYOUT,
    Finding,
    Heartbeat,
    make_writer,
)

LONG_REASON = (
    "AMI owned by account 123456789012, whose tags are not visible in this account: approve it by ID or "
    "owner, or have the AMI publisher tag it here (via launch template lt-0123456789abcdef0 version 7)"
)
FINDINGS = [
    Finding("instance", "ami-00000000000000001", Verdict.APPROVED, "approved by tag Environment=Prod", "i-1", "eu-west-1", kind=AMI),
    Finding("instance", "ami-00000000000000002", Verdict.UNAPPROVED, LONG_REASON, "i-2", "eu-west-1", kind=AMI),
    Finding("auto-scaling-group", None, Verdict.UNKNOWN, "AMI not found", "web", "eu-west-1", kind=AMI),
    Finding("auto-scaling-group", None, Verdict.UNAPPROVED, "launches $Latest", "api", "eu-west-1", kind=FLOATING_VERSION),
]
SGR = re.compile(r"\033\[[0-9;]*m")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)


def table(stream: io.StringIO, layout=AUDIT_LAYOUT, findings=FINDINGS) -> list[str]:
    writer = make_writer("table", stream, layout)
    writer.write_all(findings)
    writer.close("4 AMI uses")
    return stream.getvalue().splitlines()


def test_rows_are_grouped_by_verdict_unapproved_first() -> None:
    lines = table(io.StringIO())
    verdicts = [line.split()[4] if line.startswith("instance") else line.split()[3] for line in lines[1:-2]]
    assert verdicts == ["unapproved", "unapproved", "unknown", "approved"]
    assert lines[-1] == "4 AMI uses"


def test_piped_output_keeps_each_row_on_one_line() -> None:
    lines = table(io.StringIO())
    assert len(lines) == 1 + len(FINDINGS) + 2
    assert any(line.endswith(LONG_REASON) for line in lines)


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_the_table_fits_the_terminal_and_keeps_every_word(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("NO_COLOR", "1")
    lines = table(Terminal())
    assert max(len(line) for line in lines[1:]) <= columns, "\n".join(lines)
    assert " ".join(" ".join(lines).split()).count(" ".join(LONG_REASON.split())) == 1


def test_a_narrow_terminal_puts_the_reason_under_the_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retire's fixed columns leave no room for its reason within 100 characters: it goes below, indented."""
    monkeypatch.setenv("COLUMNS", "100")
    stream = Terminal()

    class Candidate:
        def to_dict(self):
            return {"region": "eu-west-1", "ami_id": "ami-1", "name": "web", "age_days": 400, "verdict": "unapproved",
                    "sharing": "private", "snapshots": ["snap-1"], "snapshot_size_gib": 8, "recycle_bin": "none",
                    "action": "deregister", "kept_because": "", "reason": LONG_REASON}  # fmt: skip

    lines = [SGR.sub("", line) for line in table(stream, RETIRE_LAYOUT, [Candidate()])]
    assert lines[1].split()[:2] == ["eu-west-1", "ami-1"] and "owned" not in lines[1]
    assert lines[2].startswith("    AMI owned by account") and all(len(line) <= 100 for line in lines[1:])


def test_verdicts_in_colour_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    coloured = "\n".join(table(Terminal()))
    assert "\033[31munapproved" in coloured and "\033[33munknown" in coloured and "\033[32mapproved" in coloured
    assert not SGR.search("\n".join(table(io.StringIO())))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not SGR.search("\n".join(table(Terminal())))
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: an empty value does not turn colour off
    assert SGR.search("\n".join(table(Terminal())))


def test_an_organization_table_groups_verdicts_within_each_account() -> None:
    rows = [Finding(**{**f.__dict__, "account_id": account}) for account in ("111111111111", "222222222222") for f in FINDINGS]
    lines = table(io.StringIO(), ORGANIZATION_AUDIT_LAYOUT, rows)
    headings = [i for i, line in enumerate(lines) if line.startswith("account ")]
    assert [lines[i] for i in headings] == ["account 111111111111", "account 222222222222"]
    first = [line for line in lines[headings[0] + 1 : headings[1]] if line.strip()]
    assert ["unapproved" in line for line in first] == [True, True, False, False]


def test_csv_and_json_name_the_kind() -> None:
    as_csv = io.StringIO()
    table_writer = make_writer("csv", as_csv, AUDIT_LAYOUT)
    table_writer.write_all(FINDINGS)
    table_writer.close("")
    rows = list(csv.DictReader(io.StringIO(as_csv.getvalue())))
    assert [row["kind"] for row in rows] == [AMI, AMI, AMI, FLOATING_VERSION]
    as_json = io.StringIO()
    json_writer = make_writer("json", as_json, AUDIT_LAYOUT)
    json_writer.write_all(FINDINGS)
    json_writer.close("")
    assert [row["kind"] for row in json.loads(as_json.getvalue())] == [AMI, AMI, AMI, FLOATING_VERSION]


def test_the_heartbeat_redraws_while_work_is_silent_and_clears_its_line() -> None:
    stream = Terminal()
    with Heartbeat(stream, "retire", 2, interval=0.05) as heartbeat:
        time.sleep(0.5)  # a region whose calls take long: nothing ticks, the line is still redrawn
        heartbeat.tick()
    frames = [frame for frame in stream.getvalue().split("\r") if frame.startswith("retire:")]
    assert len(frames) >= 5, frames
    assert frames[0].startswith("retire: 0 of 2 regions checked, 0 s") and "retire: 1 of 2 regions checked" in frames[-1]
    assert stream.getvalue().endswith("\r\033[K")


def test_the_heartbeat_is_silent_when_not_on_a_terminal() -> None:
    stream = io.StringIO()
    with Heartbeat(stream, "retire", 1, interval=0.01) as heartbeat:
        time.sleep(0.05)
        assert heartbeat.tick("result") == "result"
    assert stream.getvalue() == ""


def test_the_heartbeat_says_starting_until_it_knows_how_much_there_is() -> None:
    stream = Terminal()
    with Heartbeat(stream, "retire", None, interval=0.02) as heartbeat:
        time.sleep(0.1)
        heartbeat.expect(3)
        time.sleep(0.1)
    frames = [frame for frame in stream.getvalue().split("\r") if frame.startswith("retire:")]
    assert frames[0].startswith("retire: starting, 0 s") and frames[-1].startswith("retire: 0 of 3 regions checked")
