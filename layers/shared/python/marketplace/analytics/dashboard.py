"""The creator dashboard (Flow 7 "Dashboard initial load" and "Real-time updates"): ``GET`` and
``POST /dashboard`` (function ``dashboard``), one server-rendered HTML page.

**How the page authenticates.** A browser navigation carries no ``Authorization`` header, so the
page never relies on one:

1. ``GET /dashboard`` answers the page with a sign-in form (no data): paste the session JWT
   (``zkdm login``, ``python -m local.client login``), or open ``/dashboard#token=<jwt>``: a URL
   fragment never reaches a server, a log or a ``Referer``; the script moves it to
   ``sessionStorage`` (this tab only) and removes it from the address bar.
2. The form posts ``token`` (and ``period``) as ``application/x-www-form-urlencoded`` to
   ``POST /dashboard``: a body, not a URL, so no access log or history keeps it. The function
   checks the JWT exactly as the REST API's authorizer does (``auth.tokens``; 401 with the error
   body otherwise), reads the caller's analytics (``AnalyticsService``, the same figures and
   5-minute cache as ``GET /creator/{address}/analytics``) and answers the whole dashboard
   rendered on the server: summary cards, usage and revenue charts as inline SVG, top content,
   recent activity. Without JavaScript that is the page (no live updates).
3. With JavaScript the script makes the same POST with ``fetch`` (a 401 shows its message in the
   form), swaps the rendered ``<main>`` in, and opens the live stream
   (``new WebSocket(url, ["zkdm.analytics", "bearer." + jwt])``, the token as a subprotocol,
   never in a URL); each ``{contentId, type, delta}`` it receives updates the cards, the current
   bucket of the charts, the content's row and the activity feed.

Pages are ``Cache-Control: no-store`` with a Content-Security-Policy that allows exactly this
page's script and style (by hash), same-origin ``fetch`` and the stream's URL; nothing is loaded
from elsewhere. Amounts are token base units (6 decimals) shown as tokens.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any
from urllib.parse import parse_qsl

from marketplace import config
from marketplace.errors import UnauthorizedError, UnprocessableError, ValidationError
from marketplace.kit.http import Api, Media, document, raw_body

api = Api("dashboard")

PERIODS = ("day", "week", "month", "year")
TOKEN_DECIMALS = 6
MAX_TOKEN = 4096  # characters of a pasted JWT
CHART_W, CHART_H, CHART_TOP, CHART_BOTTOM, CHART_LEFT = 640, 210, 26, 28, 8
CARDS: tuple[tuple[str, str, bool], ...] = (  # (summary figure, label, an amount)
    ("uses", "Uses served", False),
    ("provenUses", "Uses proven on chain", False),
    ("revenue", "Revenue (tokens)", True),
    ("activeLicenses", "Active licenses", False),
    ("purchases", "Licenses sold", False),
    ("licenseesWithUses", "Licensees with uses", False),
)
ACTIVITY_LABELS = {"license.purchased": "License purchased", "license.revoked": "License revoked",
                   "usage.proven": "Uses proven", "payment.released": "Payment released"}


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def tokens_text(base_units: int) -> str:
    """Base units as tokens with two decimals (rounded down), thousands separated."""
    value = (Decimal(base_units) / Decimal(10**TOKEN_DECIMALS)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return f"{value:,.2f}"


def number_text(value: int) -> str:
    return f"{value:,}"


def short_id(hex_id: str) -> str:
    return f"{hex_id[:8]}…{hex_id[-4:]}" if len(hex_id) > 14 else hex_id


# -- the page's static parts ---------------------------------------------------------------------

STYLE = """
:root{--bg:#f6f7f9;--card:#fff;--ink:#18202a;--muted:#5b6776;--line:#dde2e8;--use:#2f6fdf;--rev:#1c8f5a;--warn:#b3261e}
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:var(--bg);color:var(--ink)}header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:baseline;
padding:1rem 1.25rem;background:var(--card);border-bottom:1px solid var(--line)}h1{font-size:1.3rem;margin:0}
h2{font-size:1.05rem;margin:0 0 .6rem}.who{color:var(--muted);margin:0;word-break:break-all}
.live{margin:0 0 0 auto;font-size:.85rem;color:var(--muted)}.live.on{color:var(--rev)}
main{max-width:72rem;margin:0 auto;padding:1rem}section{background:var(--card);border:1px solid var(--line);
border-radius:.6rem;padding:1rem;margin:0 0 1rem}.cards{display:grid;gap:.75rem;
grid-template-columns:repeat(auto-fit,minmax(10.5rem,1fr));background:none;border:0;padding:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:.8rem}
.card .label{color:var(--muted);font-size:.85rem}.card .value{font-size:1.6rem;font-weight:600;
font-variant-numeric:tabular-nums}.card .trend{font-size:.8rem;color:var(--muted)}
.charts{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(19rem,1fr));background:none;border:0;
padding:0;margin:0 0 1rem}.charts section{margin:0}svg{width:100%;height:auto;display:block}svg text{font-size:16px;fill:var(--muted)}
svg .use{fill:var(--use)}svg .rev{fill:var(--rev)}svg .axis{stroke:var(--line)}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}th,td{text-align:left;
padding:.4rem .3rem;border-bottom:1px solid var(--line)}td.n,th.n{text-align:right}
.id{font-family:ui-monospace,monospace;font-size:.85rem}ol.feed{list-style:none;margin:0;padding:0}
ol.feed li{padding:.45rem 0;border-bottom:1px solid var(--line)}ol.feed .when{color:var(--muted);font-size:.8rem}
ol.feed li.new{background:#eef5ff}.muted{color:var(--muted)}.error{color:var(--warn)}
textarea{width:100%;min-height:6rem;font:.85rem ui-monospace,monospace}label{display:block;margin:.5rem 0}
button,select{font:inherit;padding:.35rem .7rem}.scroll{overflow-x:auto}
@media (max-width:40rem){main{padding:.5rem}.card .value{font-size:1.3rem}.hide-s{display:none}}
"""

SCRIPT = """
(function(){
"use strict";
var KEY="zkdm.dashboard.token",body=document.body,ws=null,retries=0;
function fmtTokens(v){var s=(Math.floor(v/10000)/100).toFixed(2);return s.replace(/\\B(?=(\\d{3})+(?!\\d))/g,",");}
function fmtNum(v){return String(v).replace(/\\B(?=(\\d{3})+(?!\\d))/g,",");}
function show(el,v){el.setAttribute("data-value",String(v));
  el.textContent=el.getAttribute("data-amount")==="1"?fmtTokens(v):fmtNum(v);}
function bump(sel,d){var els=document.querySelectorAll(sel);
  for(var i=0;i<els.length;i++){show(els[i],(parseInt(els[i].getAttribute("data-value"),10)||0)+d);}
  return els.length;}
function rescale(svg){var bars=svg.querySelectorAll("rect[data-value]"),max=0,i;
  for(i=0;i<bars.length;i++){max=Math.max(max,parseInt(bars[i].getAttribute("data-value"),10)||0);}
  var h=+svg.getAttribute("data-h"),base=+svg.getAttribute("data-base");
  for(i=0;i<bars.length;i++){var v=parseInt(bars[i].getAttribute("data-value"),10)||0,bh=max?Math.round(v/max*h):0;
    bars[i].setAttribute("height",String(bh));bars[i].setAttribute("y",String(base-bh));}
  var top=svg.querySelector("[data-max]");if(top){top.setAttribute("data-value",String(max));
    top.textContent=svg.getAttribute("data-amount")==="1"?fmtTokens(max):fmtNum(max);}}
function bar(kind,d){var svg=document.querySelector("svg[data-chart='"+kind+"']");if(!svg){return;}
  var bars=svg.querySelectorAll("rect[data-value]");if(!bars.length){return;}
  var last=bars[bars.length-1];last.setAttribute("data-value",String((parseInt(last.getAttribute("data-value"),10)||0)+d));
  rescale(svg);}
function feed(m){var ol=document.getElementById("feed");if(!ol){return;}
  var li=document.createElement("li");li.className="new";var parts=[];
  for(var k in m.delta){if(Object.prototype.hasOwnProperty.call(m.delta,k)){var v=m.delta[k];
    parts.push(k+" "+(v>=0?"+":"")+(k==="revenue"?fmtTokens(v):fmtNum(v)));}}
  li.textContent=m.type+" · "+m.contentId.slice(0,8)+"…"+m.contentId.slice(-4)+" · "+parts.join(", ");
  var when=document.createElement("div");when.className="when";when.textContent="live · "+new Date().toLocaleTimeString();
  li.appendChild(when);ol.insertBefore(li,ol.firstChild);var empty=document.getElementById("feed-empty");
  if(empty){empty.remove();}while(ol.children.length>30){ol.removeChild(ol.lastChild);}}
function apply(m){if(!m||typeof m.delta!=="object"||!m.contentId){return;}var d=m.delta,c=m.contentId.toLowerCase();
  ["uses","provenUses","revenue","payments"].forEach(function(k){if(typeof d[k]==="number"){
    bump("[data-figure='"+k+"']",d[k]);bump("[data-content='"+c+"'] [data-col='"+k+"']",d[k]);}});
  if(typeof d.uses==="number"){bar("uses",d.uses);}
  if(typeof d.revenue==="number"){bar("revenue",d.revenue);}
  if(typeof d.licenses==="number"){bump("[data-figure='activeLicenses']",d.licenses);
    if(d.licenses>0){bump("[data-figure='purchases']",d.licenses);}}
  feed(m);var n=document.getElementById("live-count");if(n){show(n,(parseInt(n.getAttribute("data-value"),10)||0)+1);}}
function status(text,on){var s=document.getElementById("live-status");if(s){s.textContent=text;
  s.className=on?"live on":"live";}}
function connect(token){var url=body.getAttribute("data-ws");if(!url||!window.WebSocket){return;}
  try{ws=new WebSocket(url,["zkdm.analytics","bearer."+token]);}catch(e){status("live: unavailable",false);return;}
  ws.onopen=function(){retries=0;status("live",true);};
  ws.onmessage=function(ev){try{apply(JSON.parse(ev.data));}catch(e){}};
  ws.onclose=function(){status("live: reconnecting",false);ws=null;if(retries++<5){
    setTimeout(function(){connect(token);},Math.min(30000,1000*Math.pow(2,retries)));}else{status("live: off",false);}};}
function signedOut(message){sessionStorage.removeItem(KEY);var e=document.getElementById("signin-error");
  if(e){e.textContent=message||"";}}
function load(token,period){var form=new URLSearchParams();form.set("token",token);form.set("period",period||"month");
  status("loading…",false);
  return fetch("dashboard",{method:"POST",headers:{"Content-Type":"application/x-www-form-urlencoded"},
    body:form.toString(),credentials:"omit",cache:"no-store"}).then(function(r){
    if(r.status===200){return r.text().then(function(text){var doc=new DOMParser().parseFromString(text,"text/html");
      var main=doc.getElementById("dashboard"),who=doc.getElementById("who");
      document.getElementById("dashboard").replaceWith(document.importNode(main,true));
      if(who){document.getElementById("who").textContent=who.textContent;}
      sessionStorage.setItem(KEY,token);wire();if(ws){ws.onclose=null;ws.close();}connect(token);});}
    return r.json().then(function(b){signedOut((b&&b.message)||("error "+r.status));status("live: off",false);},
      function(){signedOut("error "+r.status);status("live: off",false);});
  },function(){status("live: off",false);signedOut("the API could not be reached");});}
function wire(){var form=document.getElementById("signin");if(form){form.addEventListener("submit",function(ev){
    ev.preventDefault();var t=form.elements.token.value.trim();if(t){load(t,form.elements.period.value);}});}
  var sel=document.getElementById("period");if(sel){sel.addEventListener("change",function(){
    var t=sessionStorage.getItem(KEY);if(t){load(t,sel.value);}});}
  var out=document.getElementById("signout");if(out){out.addEventListener("click",function(){
    if(ws){ws.onclose=null;ws.close();}signedOut("");location.reload();});}}
var m=/(?:^|[#&])token=([^&]+)/.exec(location.hash);
if(m){sessionStorage.setItem(KEY,decodeURIComponent(m[1]));history.replaceState(null,"",location.pathname+location.search);}
wire();var saved=sessionStorage.getItem(KEY);
if(saved){var p=/(?:^|[?&])period=(day|week|month|year)/.exec(location.search);load(saved,p?p[1]:"month");}
})();
"""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def headers(ws_url: str) -> dict[str, str]:
    csp = ("default-src 'none'; script-src " + _sha256(SCRIPT) + "; style-src " + _sha256(STYLE)
           + "; connect-src 'self' " + ws_url + "; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
           "frame-ancestors 'none'")
    return {"Cache-Control": "no-store", "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer"}


# -- rendering ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """What one page shows: signed out (a message), or a creator's analytics."""

    ws_url: str
    analytics: dict[str, Any] | None = None
    titles: dict[str, str] = field(default_factory=dict)  # contentId -> title
    message: str = ""
    period: str = "month"


def _trend(trend: dict[str, Any] | None, amount: bool) -> str:
    if not trend:
        return ""
    pct = trend.get("changePct")
    change = int(trend.get("change", 0))
    shown = tokens_text(abs(change)) if amount else number_text(abs(change))
    sign = "+" if change >= 0 else "−"
    rel = f" ({'+' if pct >= 0 else ''}{pct}%)" if pct is not None else ""
    return f'<div class="trend">{sign}{shown}{esc(rel)} vs previous {esc("period")}</div>'


def _cards(a: dict[str, Any]) -> str:
    summary, trends = a["summary"], a.get("trends", {})
    out = []
    for key, label, amount in CARDS:
        value = int(summary.get(key, 0))
        shown = tokens_text(value) if amount else number_text(value)
        out.append(f'<div class="card"><div class="label">{esc(label)}</div>'
                   f'<div class="value" data-figure="{key}" data-value="{value}" data-amount="{int(amount)}">'
                   f'{shown}</div>{_trend(trends.get(key), amount)}</div>')
    return '<section class="cards" aria-label="summary">' + "".join(out) + "</section>"


def _label(start: str, granularity: str) -> str:
    # start: RFC 3339 "2026-11-30T05:00:00Z"
    if granularity == "hour":
        return start[11:13] + "h"
    if granularity == "month":
        return start[:7]
    return start[5:10]


def chart(kind: str, title: str, series: list[dict[str, Any]], granularity: str, *, amount: bool) -> str:
    """A bar chart (inline SVG) of one figure of the series; bars carry their values so the script
    can add live deltas to the current (last) bucket and rescale."""
    values = [int(p.get(kind, 0)) for p in series]
    n = max(len(values), 1)
    top = max(values, default=0)
    plot_h = CHART_H - CHART_TOP - CHART_BOTTOM
    base = CHART_TOP + plot_h
    slot = (CHART_W - CHART_LEFT) / n
    width = max(slot * 0.72, 1.0)
    css = "use" if kind == "uses" else "rev"
    bars, labels = [], []
    every = max(1, -(-n // 6))  # at most 6 labels (+ the last)
    for i, (p, v) in enumerate(zip(series, values)):
        h = round(v / top * plot_h) if top else 0
        x = CHART_LEFT + i * slot + (slot - width) / 2
        shown = tokens_text(v) if amount else number_text(v)
        bars.append(f'<rect class="{css}" x="{x:.1f}" y="{base - h}" width="{width:.1f}" height="{h}" '
                    f'data-value="{v}"><title>{esc(p.get("start", ""))}: {shown}</title></rect>')
        if i % every == 0 or (i == n - 1 and i % every >= every / 2):  # the current bucket, unless crowded
            labels.append(f'<text x="{x + width / 2:.1f}" y="{CHART_H - 8}" text-anchor="middle">'
                          f'{esc(_label(str(p.get("start", "")), granularity))}</text>')
    top_text = tokens_text(top) if amount else number_text(top)
    return (f'<section><h2>{esc(title)}</h2><svg data-chart="{kind}" data-h="{plot_h}" data-base="{base}" '
            f'data-amount="{int(amount)}" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
            f'aria-label="{esc(title)} per {esc(granularity)}">'
            f'<line class="axis" x1="{CHART_LEFT}" y1="{base}" x2="{CHART_W}" y2="{base}"/>'
            f'<text x="{CHART_LEFT}" y="{CHART_TOP - 4}">max <tspan data-max="1" data-value="{top}">{top_text}'
            f'</tspan></text>' + "".join(bars) + "".join(labels) + "</svg></section>")


def _top_content(a: dict[str, Any], titles: dict[str, str]) -> str:
    rows = []
    for item in a.get("topContent", []):
        cid = str(item["contentId"]).lower()
        title = titles.get(cid)
        name = (f'{esc(title)}<br><span class="id muted">{esc(short_id(cid))}</span>' if title
                else f'<span class="id">{esc(short_id(cid))}</span>')
        rows.append(f'<tr data-content="{esc(cid)}"><td title="{esc(cid)}">{name}</td>'
                    f'<td class="n" data-col="uses" data-value="{int(item["uses"])}">{number_text(int(item["uses"]))}</td>'
                    f'<td class="n hide-s" data-col="provenUses" data-value="{int(item["provenUses"])}">'
                    f'{number_text(int(item["provenUses"]))}</td>'
                    f'<td class="n" data-col="revenue" data-value="{int(item["revenue"])}" data-amount="1">'
                    f'{tokens_text(int(item["revenue"]))}</td></tr>')
    if not rows:
        rows.append('<tr><td colspan="4" class="muted">No uses or payments in this period yet.</td></tr>')
    return ('<section><h2>Top content</h2><div class="scroll"><table><thead><tr><th>Content</th>'
            '<th class="n">Uses</th><th class="n hide-s">Proven</th><th class="n">Revenue</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div></section>")


def _activity(a: dict[str, Any]) -> str:
    items = []
    for entry in a.get("recentActivity", []):
        delta = ", ".join(f"{k} {'+' if v >= 0 else ''}{tokens_text(v) if k in ('revenue', 'sales') else number_text(v)}"
                          for k, v in (entry.get("delta") or {}).items())
        items.append(f'<li>{esc(ACTIVITY_LABELS.get(entry["type"], entry["type"]))} · '
                     f'<span class="id" title="{esc(entry["contentId"])}">{esc(short_id(entry["contentId"]))}</span>'
                     f'{" · " + esc(delta) if delta else ""}<div class="when">{esc(entry.get("at", ""))}</div></li>')
    empty = '' if items else '<p id="feed-empty" class="muted">No activity yet: purchases, payments and live uses ' \
                             'appear here.</p>'
    return (f'<section><h2>Activity <span class="muted">(<span id="live-count" data-value="0">0</span> live)</span>'
            f'</h2>{empty}<ol class="feed" id="feed">' + "".join(items) + "</ol></section>")


def _period_form(period: str) -> str:
    options = "".join(f'<option value="{p}"{" selected" if p == period else ""}>{p}</option>' for p in PERIODS)
    return (f'<section><label>Period <select id="period" name="period">{options}</select></label>'
            '<p class="muted">Figures are at most 5 minutes old when the page loads (generated '
            '<span id="generated"></span>); the live stream adds what happens after. '
            '<button type="button" id="signout">Sign out</button></p></section>')


def _signin(message: str, period: str) -> str:
    options = "".join(f'<option value="{p}"{" selected" if p == period else ""}>{p}</option>' for p in PERIODS)
    return ('<section><h2>Sign in</h2><p>Paste your session token (the JWT from <code>zkdm login</code> or '
            '<code>python -m local.client login</code>), or open <code>/dashboard#token=&lt;jwt&gt;</code>: the '
            'fragment never leaves your browser. The token is posted in the request body, never in a URL.</p>'
            '<form id="signin" method="post" action="dashboard">'
            '<label>Session token <textarea name="token" required maxlength="4096" autocomplete="off" '
            'spellcheck="false"></textarea></label>'
            f'<label>Period <select name="period">{options}</select></label><button type="submit">Show my dashboard'
            f'</button></form><p id="signin-error" class="error" role="alert">{esc(message)}</p></section>')


def render(view: View) -> str:
    a = view.analytics
    if a is None:
        who, main = "signed out", _signin(view.message, view.period)
    else:
        who = f'{a["creator"]} · last {a["period"]} ({a["start"][:10]} → {a["end"][:10]})'
        series, gran = a.get("series", []), a.get("granularity", "day")
        main = (_cards(a) + '<div class="charts">'
                + chart("uses", f"Uses per {gran}", series, gran, amount=False)
                + chart("revenue", f"Revenue per {gran} (tokens)", series, gran, amount=True) + "</div>"
                + _top_content(a, view.titles) + _activity(a)
                + _period_form(view.period).replace('<span id="generated"></span>',
                                                    f'<span id="generated">{esc(a.get("generatedAt", ""))}</span>'))
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>Creator dashboard · zk data marketplace</title><style>' + STYLE + '</style></head>'
            f'<body data-ws="{esc(view.ws_url)}"><header><h1>Creator dashboard</h1>'
            f'<p class="who" id="who">{esc(who)}</p><p class="live" id="live-status">live: off</p></header>'
            f'<main id="dashboard">{main}</main><script>' + SCRIPT + "</script></body></html>")


# -- the routes ------------------------------------------------------------------------------------


@functools.cache
def _deps() -> tuple[Any, Any, Any, str]:
    from marketplace.adapters.secrets import get_secret_bytes
    from marketplace.analytics.adapters import DynamoAnalyticsStore
    from marketplace.analytics.services import AnalyticsService
    from marketplace.content.adapters import DynamoContent

    cfg = config.load(config.DashboardConfig)
    return (AnalyticsService(DynamoAnalyticsStore(cfg.analytics_table)), DynamoContent(cfg.content_table),
            lambda: get_secret_bytes(cfg.jwt_secret_id), cfg.analytics_stream_url)


def titles_of(content: Any, content_ids: list[str]) -> dict[str, str]:
    out = {}
    for cid in content_ids:
        item = content.get(cid) or {}
        title = (item.get("metadata") or {}).get("title") if isinstance(item.get("metadata"), dict) else None
        title = title or item.get("title")
        if title:
            out[cid] = str(title)
    return out


def parse_form(body: bytes) -> tuple[str, str]:
    """``token`` and ``period`` of the urlencoded body: missing token 400, a bad period 422."""
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        raise ValidationError("the form is not UTF-8", {"field": "body"}) from None
    token = fields.get("token", "").strip()
    if not token:
        raise ValidationError("token is required: the session JWT", {"field": "token"})
    if len(token) > MAX_TOKEN:
        raise UnprocessableError(f"token is longer than {MAX_TOKEN} characters", {"field": "token"})
    period = fields.get("period") or "month"
    if period not in PERIODS:
        raise UnprocessableError("period must be day, week, month or year", {"field": "period"})
    return token, period


_FORM = {"schema": {"type": "object", "required": ["token"], "additionalProperties": False,
                    "properties": {"token": {"type": "string", "minLength": 1, "maxLength": MAX_TOKEN,
                                             "pattern": r"\S", "description": "the session JWT"},
                                   "period": {"type": "string", "enum": list(PERIODS), "default": "month"}}}}


@api.operation("GET", "/dashboard",
               "The creator dashboard page (HTML): a sign-in form; with JavaScript, a token kept in this tab "
               "(pasted, or from the URL fragment #token=<jwt>) loads the dashboard and its live updates",
               ok={200: ("the page", Media("text/html"))})
def page():
    ws_url = _deps()[3]
    return document(200, render(View(ws_url)), "text/html", headers(ws_url))


@api.operation("POST", "/dashboard",
               "The creator dashboard of the session JWT posted in the form (HTML, rendered on the server: summary, "
               "usage and revenue charts, top content, activity); the token goes in the body, never in a URL",
               ok={200: ("the dashboard", Media("text/html"))},
               errors={401: "UNAUTHORIZED: the token is missing, invalid or expired",
                       422: "VALIDATION_ERROR: the token is too long or the period invalid (details.field)"},
               request_media={"application/x-www-form-urlencoded": _FORM})
def dashboard():
    from marketplace.auth import tokens

    service, content, jwt_key, ws_url = _deps()
    token, period = parse_form(raw_body(api))
    try:
        address = tokens.verify(token, jwt_key())
    except UnauthorizedError as err:
        raise UnauthorizedError(err.message + ": sign in again (zkdm login)") from None
    analytics = service.creator_analytics(address, address, period)
    titles = titles_of(content, [str(t["contentId"]).lower() for t in analytics.get("topContent", [])])
    return document(200, render(View(ws_url, analytics, titles, period=period)), "text/html", headers(ws_url))
