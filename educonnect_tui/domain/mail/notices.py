"""A notification's e-mail: the letter's or slip's content (``notice_text``) as text and HTML.

Both bodies come from the same ``Notice``, so the e-mail says exactly what the paper
would. The HTML escapes every string (a name is whatever SIECLE holds) and loads
nothing from outside: no image, no stylesheet, no link but the portal's address.
"""

from __future__ import annotations

from html import escape

from ..documents import notice_text
from ..documents.credentials import DocumentContext, GuardianCredential, PupilCredential
from ..documents.notice_text import Notice
from ..documents.text import COLON
from .queue import Email


def notice_of(ctx: DocumentContext, row: PupilCredential | GuardianCredential) -> Notice:
    if isinstance(row, PupilCredential):
        return notice_text.pupil_notice(ctx, row)
    return notice_text.guardian_notice(ctx, row)


def notice_email(
    ctx: DocumentContext,
    row: PupilCredential | GuardianCredential,
    recipient: str,
    *,
    establishment_id: int | None = None,
) -> Email:
    notice = notice_of(ctx, row)
    return Email(
        recipient=recipient,
        subject=notice.subject,
        text=text_body(notice),
        html=html_body(notice),
        establishment_id=establishment_id,
        account_id=row.account_id,
    )


def _credential_lines(notice: Notice) -> list[tuple[str, str]]:
    lines = [(f"Identifiant{COLON}", notice.login)]
    if notice.password is not None:
        lines.append((f"Mot de passe provisoire{COLON}", notice.password))
    return lines


def text_body(notice: Notice) -> str:
    out = [notice.salutation, "", notice.intro]
    out += [f"  • {child}" for child in notice.children]
    out += ["", notice.lead, ""]
    out += [f"  {label} {value}" for label, value in _credential_lines(notice)]
    if notice.validity:
        out.append(f"  {notice.validity}")
    for section in notice.sections:
        out += ["", section.title]
        out += [
            f"  {i}. {item}" if section.numbered else f"  • {item}"
            for i, item in enumerate(section.items, 1)
        ]
    out += ["", notice.closing, "", notice.signature]
    return "\n".join(out) + "\n"


def html_body(notice: Notice) -> str:
    e = escape
    out = [
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">',
        f"<title>{e(notice.subject)}</title></head><body>",
        f"<p>{e(notice.salutation)}</p>",
        f"<p>{e(notice.intro)}</p>",
    ]
    if notice.children:
        out.append("<ul>" + "".join(f"<li>{e(c)}</li>" for c in notice.children) + "</ul>")
    out.append(f"<p>{e(notice.lead)}</p><table>")
    out += [
        f"<tr><td>{e(label)}</td><td><strong><code>{e(value)}</code></strong></td></tr>"
        for label, value in _credential_lines(notice)
    ]
    out.append("</table>")
    if notice.validity:
        out.append(f"<p><strong>{e(notice.validity)}</strong></p>")
    for section in notice.sections:
        tag = "ol" if section.numbered else "ul"
        items = "".join(f"<li>{e(item)}</li>" for item in section.items)
        out.append(f"<h3>{e(section.title)}</h3><{tag}>{items}</{tag}>")
    out += [f"<p><small>{e(notice.closing)}</small></p>", f"<p>{e(notice.signature)}</p>"]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
