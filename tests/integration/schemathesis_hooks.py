"""Schemathesis hooks (loaded with SCHEMATHESIS_HOOKS=<this file>): strategies for the string
formats the operator API's OpenAPI document defines for itself (see `trio_csms.api.openapi`),
so that schemathesis generates valid values of them:

- `station-import-csv`, `station-import-jsonl`: a bulk import file, each stationId once.
- `cursor`: a page cursor as a previous page's `next` would be (any "<stationId>/<id>" key).
"""

from __future__ import annotations

import csv
import io

import orjson
import schemathesis
from hypothesis import strategies as st

from trio_csms.api.cursor import encode_cursor

# Characters a station id is made of here: no ',', quotes or blanks, which CSV cells would
# have to quote or would lose to trimming; the API's own rules are checked by the server.
_STATION_ID = st.from_regex(r"\A[A-Za-z0-9*_=+|@.-]{1,48}\Z")
_PASSWORD = st.from_regex(r"\A[A-Za-z0-9*_=:+|@.-]{16,40}\Z")


@st.composite
def _rows(draw: st.DrawFn) -> list[dict[str, object]]:
    ids = draw(st.lists(_STATION_ID, min_size=1, max_size=4, unique=True))
    rows: list[dict[str, object]] = []
    for station_id in ids:
        profile = draw(st.sampled_from([1, 2, 3]))
        password = draw(_PASSWORD if profile < 3 else st.one_of(st.none(), _PASSWORD))
        status = draw(st.sampled_from([None, "Accepted", "Pending", "Rejected"]))
        rows.append(
            {
                "stationId": station_id,
                "password": password,
                "securityProfile": profile,
                "registrationStatus": status,
            }
        )
    return rows


def _csv(rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["stationId", "password", "securityProfile", "registrationStatus"])
    for row in rows:
        writer.writerow(["" if value is None else value for value in row.values()])
    return out.getvalue()


def _jsonl(rows: list[dict[str, object]]) -> str:
    return "".join(orjson.dumps(row).decode() + "\n" for row in rows)


_PAGE_KEY = st.builds("{}/{}".format, _STATION_ID, st.text(min_size=1, max_size=36))

schemathesis.openapi.format("cursor", _PAGE_KEY.map(encode_cursor))
schemathesis.openapi.format("station-import-csv", _rows().map(_csv))
schemathesis.openapi.format("station-import-jsonl", _rows().map(_jsonl))
