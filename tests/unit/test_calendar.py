"""The school's day and time, whatever zone the server runs in."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from educonnect_tui.domain.model.calendar import (
    SchoolTime,
    date_text,
    long_date,
    parse_date,
    zone_named,
)
from educonnect_tui.domain.model.errors import InvalidInput

PARIS = SchoolTime.named("Europe/Paris")


def test_parse_date_accepts_what_staff_type() -> None:
    assert parse_date("14/05/2012") == dt.date(2012, 5, 14)
    assert parse_date(" 4/5/2012 ") == dt.date(2012, 5, 4)
    for bad in ("2012-05-14", "31/02/2012", "", "14/05/12"):
        with pytest.raises(InvalidInput, match="JJ/MM/AAAA"):
            parse_date(bad)


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_a_written_date_reads_back(day: dt.date) -> None:
    assert parse_date(date_text(day)) == day


def test_times_are_the_schools_in_winter_and_summer() -> None:
    winter = dt.datetime(2026, 1, 15, 6, 58, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 15, 6, 58, tzinfo=dt.UTC)
    assert PARIS.time(winter) == "07:58"
    assert PARIS.time(summer) == "08:58"
    assert PARIS.date_time(winter) == "15/01/2026 à 07:58"
    assert PARIS.short(summer) == "15/07/2026 08:58"


def test_today_is_the_schools_today() -> None:
    late = dt.datetime(2026, 8, 31, 22, 30, tzinfo=dt.UTC)  # 00:30 on 1 September in Paris
    assert PARIS.today(late) == dt.date(2026, 9, 1)
    assert SchoolTime.named("UTC").today(late) == dt.date(2026, 8, 31)
    assert PARIS.day_start(dt.date(2026, 9, 1)) == dt.datetime(2026, 8, 31, 22, tzinfo=dt.UTC)


def test_long_date_and_unknown_zone() -> None:
    assert long_date(dt.date(2026, 9, 1)) == "1er septembre 2026"
    assert long_date(dt.date(2026, 12, 24)) == "24 décembre 2026"
    with pytest.raises(InvalidInput, match="Fuseau horaire"):
        zone_named("Lune/Tranquillité")
