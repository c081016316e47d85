"""The figures as rows of text: the command line's tables, and the CSV export's sections.

Row builders return plain strings (counts, French percentages, ``JJ/MM/AAAA`` days) so
the table, the CSV and the tests read the same cells.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..documents.spreadsheet import csv_text
from ..model import french
from ..model.enums import AccountKind, AccountState, ActivationMethod
from .charts import sparkline
from .class_figures import ClassStats
from .figures import EXPIRY_WARNING_DAYS, SchoolStats, day, pct
from .pass_culture import AGES_LABEL

SUMMARY_HEADERS = ["Public", "Indicateur", "Nombre", "Part"]
STATE_LEGEND = "✗ non notifié · ✉ notifié, non activé · ✓ activé · – désactivé"


def summary_rows(stats: SchoolStats) -> list[list[str]]:
    """The school-wide figures as rows of text: what the CLI table prints."""
    rows: list[list[str]] = []
    for kind_stats in (stats.pupils, stats.guardians):
        who = "Élèves" if kind_stats.kind is AccountKind.PUPIL else "Représentants"
        for state in AccountState:
            count = kind_stats.by_state.get(state, 0)
            rows.append([who, state.label, str(count), pct(kind_stats.share(state))])
        rows.append([who, "total", str(kind_stats.total), ""])
        rows.append([who, "taux d'activation", str(kind_stats.activated), pct(kind_stats.rate)])
        rows.append([who, "bloqués", str(stats.blocked[kind_stats.kind]), ""])
        rows.append(
            [
                who,
                f"provisoires expirant sous {EXPIRY_WARNING_DAYS} j",
                str(stats.expiring_soon[kind_stats.kind]),
                "",
            ]
        )
    activated = stats.guardians.activated
    for method in ActivationMethod:
        count = stats.guardian_methods.get(method, 0)
        share = count / activated if activated else 0.0
        rows.append(["Représentants", f"activés par {method.label}", str(count), pct(share)])
    if stats.activity.days:
        rows.append(
            [
                "Activations",
                f"du {day(stats.activity.days[0].day)} au {day(stats.activity.days[-1].day)}",
                str(stats.activity.total),
                "",
            ]
        )
        peak = stats.activity.peak
        if peak is not None:
            rows.append(
                ["Activations", f"maximum en un jour ({day(peak.day)})", str(peak.total), ""]
            )
    pc = stats.pass_culture
    if pc is not None:
        who = "pass Culture"
        rows.append([who, f"élèves de {AGES_LABEL}", str(pc.eligible), ""])
        rows.append([who, "avec un compte activé", str(pc.activated), pct(pc.rate)])
        rows.append(
            [
                who,
                "sans compte activé",
                str(pc.not_activated),
                pct(1 - pc.rate) if pc.eligible else pct(0.0),
            ]
        )
    return rows


def class_rows(stats: SchoolStats, classes: Sequence[ClassStats] | None = None) -> list[list[str]]:
    rows = []
    for c in stats.classes if classes is None else classes:
        rows.append(
            [
                c.division,
                str(c.pupils.total),
                *(str(c.pupils.by_state.get(s, 0)) for s in AccountState),
                pct(c.pupils.rate),
                str(c.guardians.total),
                *(str(c.guardians.by_state.get(s, 0)) for s in AccountState),
                pct(c.guardians.rate),
            ]
        )
    return rows


def class_headers() -> list[str]:
    states = [s.label for s in AccountState]
    return [
        "Classe",
        "Élèves",
        *(f"É. {s}" for s in states),
        "É. taux",
        "Resp.",
        *(f"R. {s}" for s in states),
        "R. taux",
    ]


def activity_rows(stats: SchoolStats, *, only_active_days: bool = False) -> list[list[str]]:
    return [
        [day(d.day), str(d.pupils), str(d.guardians), str(d.total)]
        for d in stats.activity.days
        if d.total or not only_active_days
    ]


def activity_headers() -> list[str]:
    return ["Jour", "Élèves", "Représentants", "Total"]


def pass_culture_rows(stats: SchoolStats) -> list[list[str]]:
    if stats.pass_culture is None:
        return []
    return [
        [p.last_name, p.first_name, p.division, p.login, p.state.label, day(p.birth_date)]
        for p in stats.pass_culture.missing
    ]


def pass_culture_headers() -> list[str]:
    return ["Nom", "Prénom", "Classe", "Identifiant", "État", "Né(e) le"]


def render_table(stats: SchoolStats) -> str:
    """The figures as text tables (``educonnect-tui stats``): summary, classes, days, list."""
    from tabulate import tabulate

    out = [f"{stats.name} ({stats.uai}) — {stats.at_text}"]
    out.append(
        tabulate(
            summary_rows(stats),
            headers=SUMMARY_HEADERS,
            colalign=("left", "left", "right", "right"),
            disable_numparse=True,
        )
    )
    out.append("")
    short = ["Classe", "Élèves", "✗", "✉", "✓", "–", "Taux", "Resp.", "✗", "✉", "✓", "–", "Taux"]
    out.append(
        tabulate(
            class_rows(stats),
            headers=short,
            disable_numparse=True,
            colalign=("left",) + ("right",) * 12,
        )
    )
    out.append(STATE_LEGEND)
    days = stats.activity.days
    if days:
        out.append("")
        out.append(f"Activations par jour, du {day(days[0].day)} au {day(days[-1].day)}\u00a0:")
        out.append("│" + sparkline([d.total for d in days]) + "│")
        peak = stats.activity.peak
        out.append(
            f"maximum\u00a0: {peak.total} le {day(peak.day)}"
            if peak
            else "aucune activation sur la période"
        )
        active_days = activity_rows(stats, only_active_days=True)
        if active_days:
            out.append(
                tabulate(
                    active_days,
                    headers=activity_headers(),
                    disable_numparse=True,
                    colalign=("left", "right", "right", "right"),
                )
            )
    pc = stats.pass_culture
    if pc is not None:
        out.append("")
        out.append(
            f"pass Culture\u00a0: {french.count(pc.eligible, 'élève')} de {AGES_LABEL} "
            f"(nés du {day(pc.born_from)} au {day(pc.born_until)}), "
            f"{pc.activated} avec un compte activé ({pct(pc.rate)})."
        )
        if pc.not_activated:
            out.append(
                f"Sans compte activé, ils ne peuvent pas ouvrir leur pass Culture "
                f"({pc.not_activated})\u00a0:"
            )
            out.append(
                tabulate(
                    pass_culture_rows(stats),
                    headers=pass_culture_headers(),
                    disable_numparse=True,
                )
            )
            if pc.truncated:
                out.append(f"… et {french.count(pc.not_activated - len(pc.missing), 'autre')}.")
    return "\n".join(out)


def csv_rows(stats: SchoolStats) -> list[list[str]]:
    """The figures as CSV rows in sections separated by an empty row, headers first."""
    rows: list[list[str]] = [SUMMARY_HEADERS, *summary_rows(stats), []]
    rows += [class_headers(), *class_rows(stats), []]
    rows += [activity_headers(), *activity_rows(stats)]
    pc = stats.pass_culture
    if pc is not None:
        rows += [[], [f"pass Culture\u00a0: élèves de {AGES_LABEL} sans compte activé"]]
        rows += [pass_culture_headers()]
        rows += pass_culture_rows(stats)
        if pc.truncated:
            rows.append([f"… et {french.count(pc.not_activated - len(pc.missing), 'autre')}"])
    return rows


def render_csv(stats: SchoolStats) -> str:
    """The CSV for the command line (no BOM, ``\n``); the file export is ``stats_csv``."""
    return csv_text(csv_rows(stats))
