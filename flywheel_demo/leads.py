"""Leads: the top of the funnel (MQL, touch, acceptance, rejection, conversion) and the lead table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel_demo.ad_spend import AdSpend, marketing_campaign_ids
from flywheel_demo.calendar import (
    DAY,
    DRIFT_AT,
    HOUR,
    MINUTE,
    N_DAYS,
    T0,
    T1,
    Scale,
    day_start,
    day_weights,
    draw_time_of_day,
    only_past,
)
from flywheel_demo.connector import stale_duplicates, sync_times
from flywheel_demo.contract import SORT_KEY, Table
from flywheel_demo.sampling import draw_names, firmographics, null_some, pick, sigmoid
from flywheel_demo.text import (
    LOWER_ALNUM,
    companies,
    emails,
    join_bytes,
    name_text,
    object_array,
    phones,
    seq_ids,
    tokens,
)
from flywheel_demo.users import Users, pick_owner
from flywheel_demo.vocabularies import (
    AE,
    CAMPAIGNS,
    COUNTRIES,
    EVENT,
    INDUSTRIES,
    LEAD_SOURCES,
    LEAD_STATUSES,
    LEAD_TITLES,
    ODD_SOURCE,
    ORGANIC,
    OUTBOUND,
    PAID_SEARCH,
    PAID_SOCIAL,
    PARTNER,
    PLG,
    REFERRAL,
    REJECT_W_AFTER_ACCEPT,
    REJECT_W_LOW_FIT,
    REJECT_W_NORMAL,
    REJECTION_REASONS,
    SDR,
    SOURCE_EMPLOYEES,
    SOURCE_GROWTH,
    SOURCE_INTENT,
    SOURCE_WEIGHT,
    STUDENT_REASON,
    WEBINAR,
)


@dataclass
class Leads:
    """The lead funnel: firmographics, latent fit and intent, and every lifecycle timestamp (NaN = never)."""

    n: int
    source: np.ndarray
    raw_source: np.ndarray
    created: np.ndarray
    campaign: np.ndarray  # index into CAMPAIGNS or -1
    campaign_id: np.ndarray  # ad platform or Salesforce campaign id, or None
    utm: tuple[np.ndarray, np.ndarray, np.ndarray]
    firmo: dict[str, np.ndarray]
    company: np.ndarray
    domain: np.ndarray
    first: np.ndarray  # index into FIRST_NAMES
    last: np.ndarray  # index into LAST_NAMES
    email: np.ndarray
    title: np.ndarray
    fit: np.ndarray
    intent: np.ndarray
    forced_mql: np.ndarray
    fast_mql: np.ndarray
    activated: np.ndarray
    workspace: np.ndarray
    mql: np.ndarray
    touch: np.ndarray
    accepted: np.ndarray
    rejected: np.ndarray
    converted: np.ndarray
    reason: np.ndarray
    status: np.ndarray
    owner: np.ndarray

    def release_profiles(self) -> None:
        """Drop what only the tables built before the lead table and the lead table itself read (who the leads are,
        their attribution, scores and statuses), keeping the lifecycle the later tables need: the lead table holds
        copies of them, and at `large` the two together do not fit in memory beside the rest of the simulation."""
        empty = np.empty(0)
        for name in ("raw_source", "campaign", "campaign_id", "company", "domain", "first", "last", "email"):
            setattr(self, name, empty)
        for name in ("title", "fit", "intent", "forced_mql", "fast_mql", "workspace", "mql", "reason", "status"):
            setattr(self, name, empty)
        self.utm, self.firmo = (empty, empty, empty), {}


def gen_leads(scale: Scale, rng: np.random.Generator, users: Users, ads: AdSpend) -> Leads:
    """Simulate the top of the funnel: who arrives when, who becomes MQL, gets worked, accepted and converted.

    Each step draws from `rng` in turn, so the order of the steps is the order of the draws: changing it changes
    every lead after it (and the committed seeds)."""
    source, created, campaign = _arrivals(scale, rng, ads)
    who = _who_they_are(rng, source)
    mql, forced, fast = _mql_dates(rng, source, created, who)
    touch = _first_touches(rng, source, created, mql)
    accepted, rejected, converted, late_reject = _decisions(rng, source, created, mql, touch, who)
    reason = _rejection_reasons(rng, who, rejected, late_reject)
    status = _statuses(rng, created, mql, touch, accepted, rejected, converted)
    owner = pick_owner(rng, users, SDR, who.firmo["segment"], created)  # SDRs by segment ...
    ae_outbound = (source == OUTBOUND) & (rng.random(len(source)) < 0.4)  # ... AEs prospect part of the outbound
    owner[ae_outbound] = pick_owner(rng, users, AE, who.firmo["segment"][ae_outbound], created[ae_outbound])
    campaign_id, utm = _attribution(rng, source, created, campaign)
    raw_source = _raw_sources(rng, source)
    plg = source == PLG
    workspace = np.full(len(source), None, dtype=object)
    workspace[plg] = tokens(rng, int(plg.sum()), "ws_", 12, LOWER_ALNUM)
    is_mql = np.isfinite(mql)
    return Leads(
        n=len(source),
        source=source,
        raw_source=raw_source,
        created=created,
        campaign=campaign,
        campaign_id=campaign_id,
        utm=utm,
        firmo=who.firmo,
        company=who.company,
        domain=who.domain,
        first=who.first,
        last=who.last,
        email=emails(who.first, who.last, who.domain),
        title=object_array([t for t, _, _ in LEAD_TITLES])[who.title],
        fit=who.fit,
        intent=who.intent,
        forced_mql=forced & is_mql,
        fast_mql=fast & is_mql,
        activated=who.activated,
        workspace=workspace,
        mql=mql,
        touch=touch,
        accepted=accepted,
        rejected=rejected,
        converted=converted,
        reason=reason,
        status=status,
        owner=owner,
    )


def _arrivals(scale: Scale, rng: np.random.Generator, ads: AdSpend) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each lead's source, creation time and ad campaign (index into CAMPAIGNS, or -1), in order of creation."""
    n = scale.n_leads
    source = pick(rng, SOURCE_WEIGHT, n)
    created = np.empty(n)
    campaign = np.full(n, -1, dtype=np.int64)
    platforms = np.array([c[0] for c in CAMPAIGNS])
    cpl = np.array([c[9] for c in CAMPAIGNS], dtype=np.float64)
    for s in range(len(LEAD_SOURCES)):
        rows = np.flatnonzero(source == s)
        if s in (PAID_SEARCH, PAID_SOCIAL):  # paid leads follow the spend of the campaigns they clicked
            cols = np.flatnonzero((platforms == "google_ads") == (s == PAID_SEARCH))
            w = ads.daily[:, cols] / cpl[cols]
            flat = rng.choice(w.size, size=len(rows), p=(w / w.sum()).ravel())
            day = flat // len(cols)
            campaign[rows] = cols[flat % len(cols)]
        else:
            day = rng.choice(N_DAYS, size=len(rows), p=day_weights(SOURCE_GROWTH[s]))
        created[rows] = T0 + day * DAY + draw_time_of_day(rng, len(rows))
    order = np.argsort(created, kind="stable")
    return source[order], created[order], campaign[order]


@dataclass
class _People:
    """Who the leads are: firmographics, company, name and title, and the latent fit and intent that drive them."""

    firmo: dict[str, np.ndarray]
    company: np.ndarray
    domain: np.ndarray
    first: np.ndarray  # index into FIRST_NAMES
    last: np.ndarray  # index into LAST_NAMES
    title: np.ndarray  # index into LEAD_TITLES
    student: np.ndarray  # students and job seekers, never accepted
    fit: np.ndarray
    intent: np.ndarray
    activated: np.ndarray  # product sign-ups that activated in their trial


def _who_they_are(rng: np.random.Generator, source: np.ndarray) -> _People:
    """Firmographics, names and titles; fit from segment, ICP industry, core market and seniority; intent from the
    source (and product activation)."""
    n = len(source)
    firmo = firmographics(rng, n, SOURCE_EMPLOYEES[source])
    company, domain = companies(rng, n)
    first, last = draw_names(rng, n)
    title_idx = pick(rng, [w for _, _, w in LEAD_TITLES], n)
    seniority = np.array([s for _, s, _ in LEAD_TITLES])[title_idx]
    icp = np.array([f for _, _, f in INDUSTRIES])[firmo["industry"]]
    core = np.array([f for _, _, f in COUNTRIES])[firmo["country"]]
    fit = np.array([0.0, 0.6, 0.9])[firmo["segment"]] + 0.6 * icp + 0.3 * core + seniority + rng.normal(0, 0.4, n)
    activated = (source == PLG) & (rng.random(n) < sigmoid(fit - 0.3))
    intent = SOURCE_INTENT[source] + rng.normal(0, 0.7, n) + 0.9 * activated
    return _People(firmo, company, domain, first, last, title_idx, seniority <= -1.5, fit, intent, activated)


def _mql_dates(
    rng: np.random.Generator, source: np.ndarray, created: np.ndarray, who: _People
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The marketing tool's MQL flag: a score threshold (lowered in March 2026) plus list uploads it flags regardless.
    Returns the MQL time (NaN = never), the forced flags and the fast ones (flagged within minutes)."""
    n = len(source)
    inbound = source != OUTBOUND
    score = 40 + 22 * who.fit + 22 * who.intent
    threshold = np.where(created < DRIFT_AT, 88.0, 74.0)
    forced = inbound & (score < threshold) & (rng.random(n) < 0.06)
    fast = inbound & (score >= threshold) & (rng.random(n) < 0.35)
    lag = np.where(fast, rng.uniform(1 * MINUTE, 10 * MINUTE, n), 30 * MINUTE + rng.exponential(5 * DAY, n))
    lag = np.where(forced, rng.uniform(0, 30 * DAY, n), lag)
    mql = only_past(np.where(inbound & ((score >= threshold) | forced), created + lag, np.nan))
    return mql, forced, fast


def _first_touches(rng: np.random.Generator, source: np.ndarray, created: np.ndarray, mql: np.ndarray) -> np.ndarray:
    """First touch by a rep: mostly within the hour, sometimes days, sometimes never, a few before the MQL."""
    n = len(source)
    inbound = source != OUTBOUND
    is_mql = np.isfinite(mql)
    referral_like = np.isin(source, [REFERRAL, PARTNER, EVENT])
    worked = is_mql | (inbound & referral_like & (rng.random(n) < 0.45)) | ~inbound
    bucket = pick(rng, [0.55, 0.23, 0.10, 0.08, 0.04], n)
    speed = np.select(
        [bucket == 0, bucket == 1, bucket == 2],
        [
            30 + rng.exponential(12 * MINUTE, n),
            np.exp(rng.uniform(np.log(HOUR), np.log(DAY), n)),
            rng.uniform(1 * DAY, 7 * DAY, n),
        ],
        np.nan,
    )
    touch = mql + speed
    early = (bucket == 4) & (mql - created > 20 * MINUTE)
    touch = np.where(early, created + rng.uniform(0.1, 0.9, n) * (mql - created), touch)
    touch = np.where((bucket == 4) & ~early, mql + 30 + rng.exponential(12 * MINUTE, n), touch)
    touch = np.where(~is_mql & worked & inbound, created + 10 * MINUTE + rng.exponential(DAY, n), touch)
    touch = np.where(~inbound, created + rng.uniform(0, 2 * DAY, n), touch)
    return only_past(np.where(worked, touch, np.nan))


def _decisions(
    rng: np.random.Generator,
    source: np.ndarray,
    created: np.ndarray,
    mql: np.ndarray,
    touch: np.ndarray,
    who: _People,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rep's decision, after the touch and after the MQL: accept (SAL) or reject; accepted leads then convert to
    an opportunity after discovery, or get recycled or rejected later. Returns the accepted, rejected and converted
    times (NaN = never) and the late rejections (rejected after being accepted)."""
    n = len(source)
    inbound = source != OUTBOUND
    is_mql = np.isfinite(mql)
    touched = np.isfinite(touch)
    fit, intent = who.fit, who.intent
    base = np.fmax(touch, mql)
    decided = base + np.where(inbound, rng.lognormal(np.log(1.5 * DAY), 1.0, n), rng.uniform(3 * DAY, 25 * DAY, n))
    quick = (touch - mql) < HOUR
    p_accept = np.where(
        is_mql,
        sigmoid(-2.4 + 1.3 * fit + 0.5 * intent + 0.5 * quick),
        np.where(inbound, sigmoid(-2.4 + 1.2 * fit + 0.5 * intent), sigmoid(-3.4 + 1.2 * fit)),
    )
    p_accept[who.student] = 0.0
    accept = touched & (rng.random(n) < p_accept)
    p_reject = np.where(is_mql, 0.7, np.where(inbound, 0.5, 0.35))
    p_reject[who.student] = 1.0
    reject = touched & ~accept & (rng.random(n) < p_reject)
    accepted = only_past(np.where(accept, decided, np.nan))
    rejected = np.where(reject, decided, np.nan)
    direct = inbound & ~touched & ~is_mql & (rng.random(n) < 0.1)  # junk cleaned out without a touch
    rejected = np.where(direct, created + rng.uniform(HOUR, 10 * DAY, n), rejected)

    p_convert = sigmoid(-0.7 + 0.9 * (fit - 1.0) + 0.3 * intent)
    convert = np.isfinite(accepted) & (rng.random(n) < p_convert)
    converted = only_past(np.where(convert, accepted + HOUR + rng.lognormal(np.log(3 * DAY), 0.8, n), np.nan))
    late_reject = np.isfinite(accepted) & ~convert & (rng.random(n) < 0.4)
    rejected = np.where(late_reject, accepted + rng.uniform(5 * DAY, 45 * DAY, n), rejected)
    return accepted, only_past(rejected), converted, late_reject


def _rejection_reasons(
    rng: np.random.Generator, who: _People, rejected: np.ndarray, late_reject: np.ndarray
) -> np.ndarray:
    """Why: depends on fit and on whether the rep had accepted first; ~5% left empty on purpose."""
    n = len(rejected)
    reason_idx = np.where(who.fit < 0.3, pick(rng, REJECT_W_LOW_FIT, n), pick(rng, REJECT_W_NORMAL, n))
    reason_idx = np.where(late_reject, pick(rng, REJECT_W_AFTER_ACCEPT, n), reason_idx)
    reason_idx = np.where(who.student, STUDENT_REASON, reason_idx)
    reason = object_array(REJECTION_REASONS)[reason_idx]
    reason[~np.isfinite(rejected) | (rng.random(n) < 0.05)] = None
    return reason


def _statuses(
    rng: np.random.Generator,
    created: np.ndarray,
    mql: np.ndarray,
    touch: np.ndarray,
    accepted: np.ndarray,
    rejected: np.ndarray,
    converted: np.ndarray,
) -> np.ndarray:
    """Current status (index into LEAD_STATUSES): converted, disqualified, working, open or nurtured as it ages."""
    age = T1 - np.fmax(np.fmax(touch, mql), accepted)
    aged_unworked = rng.random(len(created)) < 0.2 + 0.6 * (T1 - created) / (T1 - T0)
    return np.select(
        [
            np.isfinite(converted),
            np.isfinite(rejected),
            np.isfinite(accepted) | np.isfinite(touch),
            np.isfinite(mql),
        ],
        [
            4,
            3,
            np.where(age < 40 * DAY, 1, 2),
            np.where(T1 - mql < 30 * DAY, 0, 2),
        ],
        np.where(aged_unworked, 2, 0),
    )


def _attribution(
    rng: np.random.Generator, source: np.ndarray, created: np.ndarray, campaign: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Campaign ids and UTM fields (source, medium, campaign): ad campaigns, organic search, webinars, events and
    the partner program."""
    n = len(source)
    utm_source = np.full(n, None, dtype=object)
    utm_medium = np.full(n, None, dtype=object)
    utm_campaign = np.full(n, None, dtype=object)
    campaign_id = np.full(n, None, dtype=object)
    paid = campaign >= 0
    utm_source[paid] = object_array([c[3] for c in CAMPAIGNS])[campaign[paid]]
    utm_medium[paid] = object_array([c[4] for c in CAMPAIGNS])[campaign[paid]]
    utm_campaign[paid] = object_array([c[5] for c in CAMPAIGNS])[campaign[paid]]
    campaign_id[paid] = object_array([c[1] for c in CAMPAIGNS])[campaign[paid]]
    organic = np.isin(source, [ORGANIC, PLG]) & (rng.random(n) < 0.45)
    utm_source[organic], utm_medium[organic] = "google", "organic"
    webinar = source == WEBINAR
    campaign_id[webinar], utm_campaign[webinar] = marketing_campaign_ids("webinar", created[webinar])
    utm_source[webinar], utm_medium[webinar] = "hubspot", "email"
    event = source == EVENT
    campaign_id[event], _ = marketing_campaign_ids("event", created[event])
    partner = (source == PARTNER) & (rng.random(n) < 0.6)
    utm_source[partner], utm_medium[partner], utm_campaign[partner] = "partner", "referral", "partner_program"
    return campaign_id, (utm_source, utm_medium, utm_campaign)


def _raw_sources(rng: np.random.Generator, source: np.ndarray) -> np.ndarray:
    """The lead source as the CRM holds it: the picklist value, with the odd raw values a real CRM accumulates."""
    raw_source = object_array(LEAD_SOURCES)[source]
    odd = rng.random(len(source)) < 0.01
    for s, labels in ODD_SOURCE.items():
        rows = np.flatnonzero(odd & (source == s))
        raw_source[rows] = object_array(labels)[rng.integers(0, len(labels), len(rows))]
    return raw_source


def lead_table(
    rng: np.random.Generator,
    leads: Leads,
    users: Users,
    account_ids: np.ndarray,
    contact_ids: np.ndarray,
    opportunity_ids: np.ndarray,
) -> Table:
    """The lead table; the converted_* ids are passed in (None for leads that did not convert). It takes the leads'
    profile arrays over (`Leads.release_profiles`): only the lifecycle is left for the tables built after it."""
    n = leads.n
    f = leads.firmo
    converted = np.isfinite(leads.converted)
    first, last = name_text(leads.first, leads.last)
    stamps = [leads.created, leads.mql, leads.touch, leads.accepted, leads.rejected, leads.converted]
    last_change = np.fmax.reduce(stamps)
    enriched = rng.random(n) < 0.15
    enriched_at = np.minimum(last_change + rng.uniform(0, 90 * DAY, n), T1 - rng.uniform(MINUTE, 12 * HOUR, n))
    last_change = np.where(enriched, np.maximum(enriched_at, last_change), last_change)
    table: Table = {
        "id": seq_ids("00Q", 100_000 + np.arange(n)),
        SORT_KEY: np.arange(n),
        "first_name": first,
        "last_name": last,
        "name": join_bytes(first, b" ", last),
        "email": leads.email,
        "phone": null_some(rng, phones(rng, n), 0.35),
        "title": null_some(rng, leads.title, 0.08),
        "company": leads.company,
        "industry": null_some(rng, object_array([i for i, _, _ in INDUSTRIES])[f["industry"]], 0.12),
        "number_of_employees": null_some(rng, f["employees"], 0.25),
        "annual_revenue": null_some(rng, f["revenue"], 0.45),
        "country": null_some(rng, object_array([c for c, _, _ in COUNTRIES])[f["country"]], 0.04),
        "lead_source": leads.raw_source,
        "status": object_array(LEAD_STATUSES)[leads.status],
        "owner_id": users.ids[leads.owner],
        "created_date": leads.created,
        "is_converted": converted,
        "converted_date": np.where(converted, day_start(leads.converted), np.nan),
        "converted_account_id": account_ids,
        "converted_contact_id": contact_ids,
        "converted_opportunity_id": opportunity_ids,
        "utm_source_c": leads.utm[0],
        "utm_medium_c": leads.utm[1],
        "utm_campaign_c": leads.utm[2],
        "mql_date_c": leads.mql,
        "accepted_date_c": leads.accepted,
        "rejected_date_c": leads.rejected,
        "rejection_reason_c": leads.reason,
        "product_workspace_id_c": leads.workspace,
        "is_deleted": np.zeros(n, dtype=bool),
        "system_modstamp": last_change,
        "_fivetran_synced": sync_times(rng, last_change),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    del f
    leads.release_profiles()  # the table holds them now (copies, once the stale copies are appended)
    return _with_connector_mess(rng, table, leads.created, converted)


def _with_connector_mess(rng: np.random.Generator, table: Table, created: np.ndarray, converted: np.ndarray) -> Table:
    """The lead table with the connector's mess: merged-away duplicates (soft-deleted), a few hard deletes, and stale
    re-synced copies appended."""
    n = len(converted)
    candidates = np.flatnonzero(~converted)
    deleted = rng.choice(candidates, size=min(len(candidates), round(0.006 * n)), replace=False)
    table["is_deleted"][deleted] = True
    table["status"][deleted] = "Disqualified"
    table["rejection_reason_c"][deleted] = "Duplicate"
    table["rejected_date_c"][deleted] = np.fmax(table["rejected_date_c"][deleted], created[deleted] + DAY)
    table["rejected_date_c"][deleted] = np.minimum(table["rejected_date_c"][deleted], T1 - HOUR)
    table["system_modstamp"][deleted] = np.fmax(table["system_modstamp"][deleted], table["rejected_date_c"][deleted])
    table["_fivetran_synced"][deleted] = sync_times(rng, table["system_modstamp"][deleted])
    gone = rng.choice(candidates, size=min(len(candidates), round(0.003 * n)), replace=False)
    table["_fivetran_deleted"][gone] = True
    table, _ = stale_duplicates(rng, table, 0.007, eligible=table["system_modstamp"] > table["created_date"])
    stale = slice(n, None)
    table["system_modstamp"][stale] = np.maximum(table["created_date"][stale], table["_fivetran_synced"][stale] - HOUR)
    for col in ("accepted_date_c", "rejected_date_c", "mql_date_c"):
        table[col][stale] = np.where(table[col][stale] > table["system_modstamp"][stale], np.nan, table[col][stale])
    was_converted = table["is_converted"][stale].copy()
    table["status"][stale] = np.where(was_converted, "Working - Contacted", table["status"][stale])
    table["is_converted"][stale] = False
    for col in ("converted_account_id", "converted_contact_id", "converted_opportunity_id"):
        table[col][stale] = None
    table["converted_date"][stale] = np.nan
    return table
