"""What each section of the statistics panel shows, drawn from one ``SchoolStats``.

Kept apart from the screen, which decides when to repaint and where the cursor goes:
these only turn figures into text and table rows. Everything reads without colour:
states carry their symbol and word, rates their percentage beside the bar.
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.widgets import DataTable

from ..domain.model import french
from ..domain.model.enums import AccountKind, AccountState, ActivationMethod
from ..domain.reports.charts import bar, column_chart
from ..domain.reports.class_figures import ClassSort, ClassStats
from ..domain.reports.counts import KindStats
from ..domain.reports.figures import EXPIRY_WARNING_DAYS, SchoolStats, day, pct
from ..domain.reports.pass_culture import AGES_LABEL, PassCulture
from ..widgets.state_badge import BLOCKED_SYMBOL, colour_style, state_text


def bar_text(rate: float, width: int) -> Text:
    """A bar drawn in eighths on a dim track (the track keeps a 0 % bar visible)."""
    drawn = bar(rate, width).rstrip()
    text = Text(drawn, style="green")
    text.append("░" * (width - len(drawn)), style="dim")
    return text


def rate_text(rate: float, width: int) -> Text:
    """The bar, then the percentage as text: the bar is never alone."""
    text = bar_text(rate, width)
    text.append(f" {round(rate * 100):>3d} %")
    return text


def count_text(n: int) -> Text:
    return Text(str(n), style="dim" if n == 0 else "", justify="right")


# --------------------------------------------------------------------------- summary


def title_markup(stats: SchoolStats) -> str:
    scope = " (classes de votre délégation)" if stats.limited_to_classes else ""
    return (
        f"[b]Statistiques[/b] · {escape(stats.name)} · {stats.uai}{scope} │ "
        f"{stats.at_text} (en direct)"
    )


def states_text(stats: SchoolStats) -> Text:
    """Counts and shares by state, pupils then guardians: a word and a symbol per state."""
    label_w = 22
    text = Text()
    text.append(f"{'Comptes par état':<{label_w}}", style="bold")
    text.append(f"{'Élèves':>15}   {'Représentants':>15}\n", style="bold")
    for state in AccountState:
        label = state_text(state, AccountKind.PUPIL, short=False)
        label.pad_right(label_w - label.cell_len)
        text.append_text(label)
        for k in (stats.pupils, stats.guardians):
            text.append(f"{k.by_state.get(state, 0):>6} {pct(k.share(state)):>8}   ")
        text.rstrip()
        text.append("\n")
    text.append(f"{'Total':<{label_w}}", style="bold")
    text.append(f"{stats.pupils.total:>6}{'':12}{stats.guardians.total:>6}\n")
    text.append(f"{'Taux d’activation':<{label_w}}", style="bold")
    for k in (stats.pupils, stats.guardians):
        text.append(f"{'':4}")
        text.append_text(bar_text(k.rate, 6))
        text.append(f"{pct(k.rate):>8}   ", style="bold")
    text.rstrip()
    return text


def side_text(stats: SchoolStats) -> Text:
    text = Text()
    text.append("Représentants activés par\n", style="bold")
    activated = stats.guardians.activated
    for method in ActivationMethod:
        n = stats.guardian_methods.get(method, 0)
        share = pct(n / activated if activated else 0.0)
        text.append(f"  {method.label:<26}{n:>6} {share:>8}\n")
    blocked, expiring = stats.blocked, stats.expiring_soon
    text.append(f"{'':28}{'Élèves':>6} {'Resp.':>8}\n", style="bold")
    for label, figures in (
        (f"{BLOCKED_SYMBOL} Bloqués", blocked),
        (f"Provisoires expirant ≤ {EXPIRY_WARNING_DAYS} j", expiring),
    ):
        text.append(f"{label:<28}", style="bold")
        pupils = figures.get(AccountKind.PUPIL, 0)
        text.append(f"{pupils:>6} {figures.get(AccountKind.GUARDIAN, 0):>8}\n")
    text.rstrip()
    return text


# --------------------------------------------------------------------------- classes table


def classes_title(sort: ClassSort, descending: bool) -> str:
    arrow = "▼" if descending else "▲"
    return (
        f"[b]Par classe[/b] · tri\u00a0: {sort.label} {arrow}  "
        "[dim](o trier, O inverser, Entrée\u00a0: voir la classe)[/dim]"
    )


def _state_header(state: AccountState, kind: AccountKind) -> Text:
    """A state's symbol over its column, in the colour of the population below it."""
    return Text(state.symbol, style=colour_style(state.colour(kind)))


def add_class_columns(table: DataTable[Text], narrow: bool) -> None:
    table.add_column("Classe", key="c0")
    for i, state in enumerate(AccountState):
        table.add_column(_state_header(state, AccountKind.PUPIL), key=f"c{1 + i}")
    table.add_column("Élèves" if narrow else "Taux élèves", key="c5")
    for i, state in enumerate(AccountState):
        table.add_column(_state_header(state, AccountKind.GUARDIAN), key=f"c{6 + i}")
    table.add_column("Resp." if narrow else "Taux représentants", key="c10")


def class_row(c: ClassStats) -> tuple[str, ...]:
    """Plain values, compared between refreshes so only changed cells are repainted."""

    def part(k: KindStats) -> list[str]:
        return [str(k.by_state.get(s, 0)) for s in AccountState] + [f"{k.rate:.6f}"]

    return (c.division, *part(c.pupils), *part(c.guardians))


def class_cell(index: int, value: str, bar_width: int) -> Text:
    if index in (5, 10):
        return rate_text(float(value), bar_width)
    if index == 0:
        return Text(value, style="bold")
    return count_text(int(value))


# --------------------------------------------------------------------------- activity chart


def activity_text(stats: SchoolStats, bar_width: int) -> Text | str:
    """Activations per day as columns, the busiest day marked on the axis; "" without days."""
    days = stats.activity.days
    if not days:
        return ""
    step = 1 if bar_width < 12 else 2
    peak = stats.activity.peak
    top = peak.total if peak else 0
    chart = column_chart([d.total for d in days], rows=3, step=step)
    axis = f"{top:>4} ┤"
    lines = Text()
    lines.append("Activations par jour", style="bold")
    lines.append(
        f" — {stats.activity.total} en {len(days) // 7} semaines"
        + (f", maximum {peak.total} le {day(peak.day)}" if peak else ", aucune")
        + "\n"
    )
    for i, row in enumerate(chart):
        lines.append(axis if i == 0 else "     │", style="dim")
        lines.append(row + "\n", style="cyan")
    width = len(days) * step
    axis_line = ["─"] * width
    if peak is not None:
        axis_line[days.index(peak) * step] = "▲"  # the busiest day, named above
    lines.append("     └" + "".join(axis_line) + "\n", style="dim")
    first, last = day(days[0].day)[:5], day(days[-1].day)[:5]
    lines.append("      " + first + last.rjust(width - len(first)), style="dim")
    return lines


# --------------------------------------------------------------------------- pass Culture


def pass_culture_text(pc: PassCulture) -> Text:
    text = Text()
    text.append("pass Culture", style="bold")
    text.append(
        f" — élèves de {AGES_LABEL} (nés du {day(pc.born_from)} au {day(pc.born_until)})\n"
        f"{french.count(pc.eligible, 'élève')}, dont {pc.activated} avec un compte activé "
    )
    text.append_text(bar_text(pc.rate, 6))
    text.append(f" {pct(pc.rate)}\n")
    if pc.not_activated:
        text.append(
            f"{pc.not_activated} sans compte activé : ils ne peuvent pas ouvrir leur pass Culture.",
            style="bold",
        )
    else:
        text.append("Tous ont un compte activé.")
    return text


def fill_pass_table(table: DataTable[Text | str], pc: PassCulture, current: int) -> None:
    """The pupils still without an activated account, the cursor kept near ``current``."""
    table.clear(columns=True)
    for label in ("Nom", "Prénom", "Classe", "Identifiant", "État"):
        table.add_column(label)
    for p in pc.missing:
        table.add_row(
            p.last_name,
            p.first_name,
            p.division,
            p.login,
            state_text(p.state, AccountKind.PUPIL),
            key=str(p.account_id),
        )
    if pc.missing:
        table.move_cursor(row=min(current, len(pc.missing) - 1), scroll=False)


def pass_more_text(pc: PassCulture) -> str:
    return (
        f"… et {french.count(pc.not_activated - len(pc.missing), 'autre')}\u00a0: "
        "la liste complète est dans l'export CSV (e)."
        if pc.truncated
        else ""
    )
