"""Login novelty before a decision: devices and countries the account had never used until just now.

The shipped views count distinct devices per window, which cannot tell "a device seen for the first
time an hour ago" from "one of the usual ones". Here a device (or IP country) is *new* at the
instant of its first login for the account, provided the account had logged in before from
something else (an account's very first device is not a novelty). For a decision at ``d``:

* ``new_devices_24h`` / ``new_countries_24h``: devices / countries first seen in ``[d - 24h, d)``;
* ``since_new_device_7d``: seconds since the latest first-seen device in the week before ``d``;
* ``since_new_device_country_7d``: the same for a login that brought a new device *and* a new
  country at once, the shape of an account takeover through a VPN.

A first appearance before ``d`` is a fact of the past whatever happens later, so computing it from
the whole table leaks nothing: only appearances strictly before ``d`` are counted.

>>> login_novelty(con, spine).to_pandas()     # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

FEATURES = ("new_devices_24h", "new_countries_24h", "since_new_device_7d", "since_new_device_country_7d")
_DAY, _WEEK = 86_400, 7 * 86_400


def first_appearances(con: Any) -> dict[str, ir.Table]:
    """(user_id, t) of each new device, new country, and login bringing both, per the module doc."""
    s = con.table("sessions")
    first_login = s.group_by(_u="user_id").aggregate(_t0=s.event_time.min())

    def first_of(column: str) -> ir.Table:
        first = s.group_by(["user_id", column]).aggregate(t=s.event_time.min())
        j = first.join(first_login, first.user_id == first_login._u)
        return j.filter(j.t > j._t0).select("user_id", column, "t")

    device, country = first_of("device_id"), first_of("ip_country")
    other = country.rename(_cu="user_id", _ct="t")
    both = device.join(other, [device.user_id == other._cu, device.t == other._ct])
    return {"device": device.select("user_id", "t"), "country": country.select("user_id", "t"),
            "both": both.select("user_id", "t")}


def login_novelty(con: Any, spine: ir.Table) -> ir.Table:
    """(user_id, decision_time, *FEATURES) for each distinct (user_id, decision_time) of ``spine``."""
    pts = spine.select("user_id", "decision_time").distinct()
    events = first_appearances(con)
    parts = [
        _recent(pts, events["device"], {"new_devices_24h": ("count", _DAY), "since_new_device_7d": ("since", _WEEK)}),
        _recent(pts, events["country"], {"new_countries_24h": ("count", _DAY)}),
        _recent(pts, events["both"], {"since_new_device_country_7d": ("since", _WEEK)}),
    ]
    out = pts
    for part in parts:
        part = part.rename(_pu="user_id", _pd="decision_time")
        out = out.left_join(part, [out.user_id == part._pu, out.decision_time == part._pd]).drop("_pu", "_pd")
    return out.select("user_id", "decision_time", *FEATURES)


def _recent(pts: ir.Table, events: ir.Table, wanted: dict[str, tuple[str, int]]) -> ir.Table:
    """Per point, a count of events in the last ``seconds`` or whole seconds since the latest of them."""
    longest = max(seconds for _, seconds in wanted.values())
    ev = events.rename(_eu="user_id", _et="t")
    j = pts.left_join(ev, [pts.user_id == ev._eu, ev._et < pts.decision_time,
                           ev._et >= pts.decision_time - ibis.interval(seconds=longest)])
    aggs: dict[str, ir.Value] = {}
    for name, (how, seconds) in wanted.items():
        inside = j._et >= j.decision_time - ibis.interval(seconds=seconds)
        aggs[name] = j._eu.count(where=inside) if how == "count" else j._et.max(where=inside)
    out = j.group_by(["user_id", "decision_time"]).aggregate(**aggs)
    since = {name: out.decision_time.epoch_seconds().floor() - out[name].epoch_seconds().floor()
             for name, (how, _) in wanted.items() if how == "since"}
    return out.mutate(**since) if since else out
