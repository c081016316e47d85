"""Reports read in the school's time on a server whose clock runs in another zone.

Servers often run in UTC while the school is in Paris: the figures' days, the headers
of the table, the PDF and the file names, and the audit trail's times and day filters
must all be Paris's. The process zone is switched for each test (``TZ`` + ``tzset``)
and restored afterwards, on both backends.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from io import BytesIO

import pytest
from pypdf import PdfReader

from educonnect_tui.domain.model.enums import AccountState
from educonnect_tui.domain.reports import journal as audit_log
from educonnect_tui.domain.reports.figures import school_stats
from educonnect_tui.domain.reports.journal import AuditFilter
from educonnect_tui.domain.reports.stats_pdf import default_paths, stats_pdf
from educonnect_tui.domain.reports.stats_text import render_table
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock

UAI = factories.DEFAULT_UAI
D = dt.date
ACTOR = Actor(label="Hélène Martin (h.martin)", source_address="10.0.0.5")


@pytest.fixture(params=["UTC", "Asia/Tokyo"])
def server_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The process runs in UTC (the usual server) or far east of Paris."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def _school_with_activation(services: Services, activated_at: dt.datetime) -> int:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        pupil = factories.pupil(session, school, division="3E1", birth_date=D(2011, 1, 1))
        pupil.state = AccountState.ACTIVATED
        pupil.activated_at = activated_at
        return school.id


def test_activation_late_in_utc_counts_for_the_next_paris_day(
    server_zone: str, services: Services, clock: FakeClock
) -> None:
    """23:30 UTC on 14/11 is 00:30 on 15/11 in Paris (UTC+1 in November)."""
    clock.now = dt.datetime(2026, 11, 16, 12, 0, tzinfo=dt.UTC)
    _school_with_activation(services, dt.datetime(2026, 11, 14, 23, 30, tzinfo=dt.UTC))
    stats = school_stats(services, factories.operator(services, UAI))
    assert {d.day: d.pupils for d in stats.activity.days if d.pupils} == {D(2026, 11, 15): 1}


def test_today_is_paris_date_after_its_midnight(
    server_zone: str, services: Services, clock: FakeClock
) -> None:
    """At 23:30 UTC on 15/11 Paris is already on the 16th: the last day shown, and the
    day pass Culture ages are counted on."""
    clock.now = dt.datetime(2026, 11, 15, 23, 30, tzinfo=dt.UTC)
    _school_with_activation(services, dt.datetime(2026, 11, 15, 23, 15, tzinfo=dt.UTC))
    stats = school_stats(services, factories.operator(services, UAI))
    assert stats.today == D(2026, 11, 16)
    assert stats.activity.days[-1].day == D(2026, 11, 16)
    assert stats.activity.days[-1].pupils == 1
    assert stats.pass_culture is not None
    assert stats.pass_culture.born_until == D(2011, 11, 16)


def test_headers_and_file_names_show_paris_time(
    server_zone: str, services: Services, clock: FakeClock
) -> None:
    """06:21 UTC in winter is 07:21 in Paris: the CLI table, the PDF and the file stamp."""
    clock.now = dt.datetime(2026, 11, 16, 6, 21, tzinfo=dt.UTC)
    _school_with_activation(services, dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC))
    stats = school_stats(services, factories.operator(services, UAI))
    assert stats.at_text == "16/11/2026 07:21"
    assert render_table(stats).splitlines()[0].endswith("— 16/11/2026 07:21")
    csv_path, pdf_path = default_paths(services, stats)
    assert csv_path.name == f"statistiques_{UAI}_2026-11-16_072100.csv"
    assert pdf_path.name == f"statistiques_{UAI}_2026-11-16_072100.pdf"
    text = PdfReader(BytesIO(stats_pdf(stats))).pages[0].extract_text()
    assert "le 16/11/2026 à 07:21" in text


def test_summer_time_in_the_headers(server_zone: str, services: Services, clock: FakeClock) -> None:
    clock.now = dt.datetime(2026, 7, 1, 6, 21, tzinfo=dt.UTC)
    _school_with_activation(services, dt.datetime(2026, 6, 30, 9, 0, tzinfo=dt.UTC))
    assert school_stats(services, factories.operator(services, UAI)).at_text == "01/07/2026 08:21"


def test_audit_trail_in_paris_time_and_days(
    server_zone: str, services: Services, clock: FakeClock
) -> None:
    """An event at 23:30 UTC on 14/11 reads 00:30 on the 15th and falls in that day."""
    with services.sessions() as session, session.begin():
        school_id = factories.school(session).id
    with services.sessions() as session, session.begin():
        audit.record(
            session,
            ACTOR,
            "sign_in",
            now=dt.datetime(2026, 11, 14, 23, 30, tzinfo=dt.UTC),
            establishment_id=school_id,
        )

    here = factories.operator_at(services, school_id)

    def found(**days: dt.date) -> list[str]:
        rows = audit_log.events(services, here, AuditFilter(**days))  # type: ignore[arg-type]
        return [row.local_time for row in rows]

    assert found() == ["15/11/2026 00:30"]
    assert found(since=D(2026, 11, 15), until=D(2026, 11, 15)) == ["15/11/2026 00:30"]
    assert found(until=D(2026, 11, 14)) == []
    assert audit_log.count(services, here, AuditFilter(since=D(2026, 11, 16))) == 0
