"""The account table's header at 80 columns: the sort arrow stays."""

from __future__ import annotations

from educonnect_tui.widgets.account_table import GUARDIAN_COLUMNS, PUPIL_COLUMNS, with_arrow


def test_the_sort_arrow_is_never_cut_off() -> None:
    assert with_arrow("Nom", "▲", 18) == "Nom ▲"
    assert with_arrow("Classe", "▼", 7) == "Classe▼"
    assert with_arrow("Identifiant", "▲", 6) == "Iden…▲"
    for column in (*PUPIL_COLUMNS, *GUARDIAN_COLUMNS):
        assert with_arrow(column.title, "▲", column.width).endswith("▲")
        assert len(with_arrow(column.title, "▲", column.width)) <= column.width
