"""What a notification tells its holder, once for the paper and the e-mail.

A letter, a slip and an e-mail of the same notification must say the same thing: the
same identifier, the same password and expiry, the same ways to activate. The wording
lives here as a ``Notice``; ``letters`` and ``slips`` lay its pieces out on paper and
``mail.notices`` turns it into a plain-text and an HTML body.

A reminder (``temp_password`` is None) never carries a password: it gives the
identifier and says how to activate with the password already received or recover
one (« Mot de passe oublié », FranceConnect and self-registration for guardians).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..model.calendar import date_text
from .credentials import DocumentContext, GuardianCredential, PupilCredential
from .text import COLON, clean, pupil_name, quote, school_line


@dataclass(frozen=True)
class Section:
    """A titled list: numbered steps, or bullets (``numbered`` False)."""

    title: str
    items: tuple[str, ...]
    numbered: bool = True


@dataclass(frozen=True)
class Notice:
    """The content of one holder's document, independent of paper or e-mail.

    Every string is clean text (no markup): the HTML body escapes each of them.
    """

    subject: str
    salutation: str
    intro: str
    children: tuple[str, ...]
    lead: str
    login: str
    password: str | None
    validity: str | None
    sections: tuple[Section, ...]
    closing: str
    signature: str


def guardian_subject(reset: bool) -> str:
    if reset:
        return "Votre compte EduConnect de représentant légal"
    return "Rappel de votre identifiant EduConnect de représentant légal"


def pupil_subject(reset: bool) -> str:
    return "Ton compte EduConnect" if reset else "Rappel de ton identifiant EduConnect"


SIGNATURE = "Le chef d'établissement"
FORGOTTEN = "Mot de passe oublié"


def validity(expires_on: dt.date | None) -> str | None:
    """« Valable jusqu'au 01/03/2027 », or None in a reminder."""
    return f"Valable jusqu'au {date_text(expires_on)}" if expires_on else None


def guardian_intro(children: int) -> str:
    concerned = "est scolarisé votre enfant" if children == 1 else "sont scolarisés vos enfants"
    return (
        "EduConnect est le compte unique qui vous permet d'accéder aux services numériques "
        f"des écoles et des établissements où {concerned}{COLON}"
    )


def guardian_lead(reset: bool) -> str:
    if reset:
        return f"Pour activer ce compte, vous pouvez utiliser ces identifiants provisoires{COLON}"
    return (
        "Voici le rappel de votre identifiant (aucun mot de passe n'est joint, aucun n'a été "
        f"modifié){COLON}"
    )


def guardian_steps(portal: str, reset: bool) -> Section:
    portal = clean(portal)
    if reset:
        return Section(
            "Activer votre compte avec ces identifiants provisoires",
            (
                f"Rendez-vous sur {portal} et choisissez {quote('Représentant légal')}.",
                "Saisissez l'identifiant et le mot de passe provisoire ci-dessus.",
                "Choisissez un nouveau mot de passe personnel.",
                "Indiquez votre adresse électronique, puis confirmez-la avec le lien ou le "
                "code reçu par courriel.",
            ),
        )
    return Section(
        "Activer votre compte ou retrouver votre mot de passe",
        (
            f"Rendez-vous sur {portal} et choisissez {quote('Représentant légal')}.",
            "Saisissez l'identifiant ci-dessus.",
            "Si votre compte n'est pas encore activé, utilisez le mot de passe provisoire "
            "reçu précédemment (s'il est encore valable), puis choisissez votre mot de passe "
            "personnel.",
            f"Mot de passe perdu ou oublié{COLON} choisissez {quote(FORGOTTEN)}, un lien "
            "vous sera envoyé à l'adresse électronique de votre compte.",
        ),
    )


def guardian_other_ways(portal: str) -> Section:
    portal = clean(portal)
    return Section(
        "Les autres moyens d'activer votre compte",
        (
            f"FranceConnect{COLON} sur {portal}, choisissez {quote('FranceConnect')} et "
            "connectez-vous avec un compte que vous avez déjà (impots.gouv.fr, ameli.fr, "
            "l'Identité Numérique La Poste…).",
            f"Auto-inscription{COLON} choisissez {quote('Je n’ai pas de compte')} et indiquez "
            "le numéro de téléphone portable que vous avez donné à l'établissement. Vous "
            "recevrez un code par SMS, puis il vous sera demandé la date de naissance de "
            "chacun de vos enfants.",
        ),
        numbered=False,
    )


def guardian_closing(reset: bool) -> str:
    secret = (
        f"Ce mot de passe provisoire est personnel et confidentiel{COLON} l'établissement ne "
        "vous le demandera jamais."
        if reset
        else f"Votre mot de passe est personnel et confidentiel{COLON} l'établissement ne "
        "vous le demandera jamais."
    )
    return (
        f"{secret} Un seul compte suffit pour tous vos enfants, même s'ils sont scolarisés "
        "dans des établissements différents."
    )


def salutation(civility: str) -> str:
    c = clean(civility).rstrip(".").lower()
    if c in {"m", "monsieur", "mr"}:
        return "Monsieur,"
    if c in {"mme", "madame", "mlle", "mademoiselle"}:
        return "Madame,"
    return "Madame, Monsieur,"


def child_line(last_name: str, first_name: str, division: str, school_name: str) -> str:
    """« LEFÈVRE Zoé — classe 3E1, Collège Jean Moulin »"""
    where = ", ".join(p for p in (clean(division), clean(school_name)) if p)
    return pupil_name(last_name, first_name) + (f" — classe {where}" if where else "")


def guardian_notice(ctx: DocumentContext, row: GuardianCredential) -> Notice:
    reset = row.temp_password is not None
    return Notice(
        subject=guardian_subject(reset),
        salutation=salutation(row.civility),
        intro=guardian_intro(len(row.children)),
        children=tuple(
            child_line(c.last_name, c.first_name, c.division, c.school_name) for c in row.children
        ),
        lead=guardian_lead(reset),
        login=row.login,
        password=row.temp_password,
        validity=validity(row.expires_on),
        sections=(guardian_steps(ctx.portal_url, reset), guardian_other_ways(ctx.portal_url)),
        closing=guardian_closing(reset),
        signature=f"{SIGNATURE} — {school_line(ctx)}",
    )


def pupil_steps(reset: bool) -> tuple[str, ...]:
    """The slip's steps, « tu » as teachers address 11-year-olds; ``{portal}`` to fill."""
    if reset:
        return (
            "Va sur {portal}",
            "Saisis ton identifiant et ce mot de passe provisoire.",
            "Choisis ton nouveau mot de passe et confirme ta date de naissance.",
        )
    return (
        "Va sur {portal} et saisis ton identifiant.",
        "Pas encore activé\u00a0? Utilise le mot de passe provisoire de ta première fiche.",
        f"Mot de passe oublié\u00a0? Clique sur {quote(FORGOTTEN)} ou demande une "
        "nouvelle fiche à ton professeur principal.",
    )


def pupil_notice(ctx: DocumentContext, row: PupilCredential) -> Notice:
    reset = row.temp_password is not None
    portal = clean(ctx.portal_url)
    return Notice(
        subject=pupil_subject(reset),
        salutation=f"Bonjour {clean(row.first_name)},",
        intro=(
            "EduConnect est le compte qui te permet d'accéder aux services numériques de "
            f"ton établissement ({school_line(ctx)}, classe {clean(row.division)})."
        ),
        children=(),
        lead=(
            f"Voici ton identifiant et ton mot de passe provisoire{COLON}"
            if reset
            else f"Voici ton identifiant (aucun mot de passe n'a été modifié){COLON}"
        ),
        login=row.login,
        password=row.temp_password,
        validity=validity(row.expires_on),
        sections=(
            Section(
                "Pour activer ton compte" if reset else "Pour te connecter",
                tuple(step.format(portal=portal) for step in pupil_steps(reset)),
            ),
        ),
        closing=f"Ton mot de passe est secret{COLON} ne le donne à personne.",
        signature=f"{SIGNATURE} — {school_line(ctx)}",
    )
