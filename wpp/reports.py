"""Reports staff download for their school's own records: the incidents (the problems the alert desk followed) as
a CSV file a spreadsheet opens — columns in the reader's language, times in the reader's time zone, only the lines
the person may see (the service chose them, :meth:`wpp.service.WppService.incidents`)."""
from __future__ import annotations

import datetime as dt
from typing import Iterable

import pandas as pd

from .i18n import _, current_language, format_duration

#: how a time reads in the file: sortable, and what spreadsheets recognise
CSV_TIME = "%Y-%m-%d %H:%M"


def _local(moment: dt.datetime | None, tz: dt.tzinfo) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(tz).strftime(CSV_TIME)


def _cell(value: str | None) -> str:
    """Text someone typed (a school's or number's name), never read by a spreadsheet as a formula."""
    value = str(value or "")
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _zone(tz: dt.tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def incidents_frame(incidents, tz: dt.tzinfo) -> pd.DataFrame:
    """Every line of ``incidents`` (:class:`wpp.service.Incidents`): the open ones first, then the ended ones."""
    zone = _zone(tz)
    lang = current_language()
    rows: Iterable = [(ln, True) for ln in incidents.open] + [(ln, False) for ln in incidents.closed]
    cols = [_("State"), _("School"), _("Number"), _("What happened"), _("Since ({zone})", zone=zone),
            _("Back at ({zone})", zone=zone), _("Lasted (minutes)"), _("Lasted"), _("Taken care of by"),
            _("Taken care of at ({zone})", zone=zone), _("People were told")]
    data = []
    for ln, is_open in rows:
        lasted = ln.duration_s
        data.append([
            _("Open") if is_open else _("Ended"), _cell(ln.school), _cell(ln.number), ln.kind, _local(ln.since, tz),
            _local(ln.recovered_at, tz), "" if lasted is None else round(lasted / 60.0, 1),
            "" if lasted is None else format_duration(lasted, lang=lang), _cell(ln.acked_by),
            _local(ln.acked_at, tz), _("yes") if ln.told else _("no"),
        ])
    return pd.DataFrame(data, columns=cols)


def incidents_csv(incidents, tz: dt.tzinfo) -> bytes:
    """The CSV file: UTF-8 with a byte-order mark (so a spreadsheet reads Cyrillic), ";" between columns in Russian
    (what a Russian spreadsheet expects), "," in English."""
    sep = ";" if current_language() == "ru" else ","
    return incidents_frame(incidents, tz).to_csv(index=False, sep=sep).encode("utf-8-sig")


__all__ = ["CSV_TIME", "incidents_csv", "incidents_frame"]
