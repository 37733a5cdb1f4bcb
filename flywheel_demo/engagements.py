"""Marketing engagements: form fills, e-mail clicks, visits and demo requests around each lead's MQL."""

from __future__ import annotations

import numpy as np

from flywheel_demo.ad_spend import marketing_campaign_ids
from flywheel_demo.calendar import DAY, MINUTE, T1, Scale
from flywheel_demo.connector import sync_times
from flywheel_demo.contract import SORT_KEY, Table
from flywheel_demo.leads import Leads
from flywheel_demo.sampling import group_offsets, or_null, pick
from flywheel_demo.text import object_array, seq_ids
from flywheel_demo.vocabularies import (
    DEMO_REQUEST,
    EMAIL_CLICK,
    ENGAGEMENT_TYPES,
    ENGAGEMENT_W_MQL,
    ENGAGEMENT_W_OTHER,
    FORM_FILL,
    NURTURE_CAMPAIGN_ID,
    ORGANIC,
    OUTBOUND,
    PAGES,
    PAID_SEARCH,
    PAID_SOCIAL,
    PARTNER,
    PLG,
    PRICING_VISIT,
    REFERRAL,
    SITE,
    WEB_VISIT,
    WEBINAR,
    WEBINAR_ATTENDED,
)


def gen_engagements(scale: Scale, rng: np.random.Generator, leads: Leads, lead_ids: np.ndarray) -> Table:
    """Form fills, e-mail clicks, visits and demo requests before and around each lead's MQL; MQLs engage more."""
    n = leads.n
    src = leads.source
    inbound = src != OUTBOUND
    mql = np.isfinite(leads.mql)
    strong = mql & ~leads.forced_mql
    # The engagement that created the lead, and the one that tipped it into MQL.
    tracked = np.isin(src, [ORGANIC, PAID_SEARCH, PAID_SOCIAL, REFERRAL, PLG, WEBINAR, PARTNER])
    creating = np.flatnonzero(tracked & ((leads.campaign >= 0) | (rng.random(n) < 0.35)))  # paid clicks always tracked
    c_type = np.where(src[creating] == WEBINAR, WEBINAR_ATTENDED, FORM_FILL)
    trigger = np.flatnonzero(strong)
    t_type = np.where(leads.fast_mql[trigger], DEMO_REQUEST, PRICING_VISIT)
    # Everything else: more and stronger engagement for the leads that became MQL.
    rate = scale.engagements_per_lead * np.where(
        inbound, np.where(strong, 2.5, 1.0) * (0.6 + 0.4 * np.clip(leads.intent, 0, 3)), 0.3
    )
    count = rng.poisson(rate)
    parent, _ = group_offsets(count)
    is_strong = strong[parent]
    o_type = np.where(is_strong, pick(rng, ENGAGEMENT_W_MQL, len(parent)), pick(rng, ENGAGEMENT_W_OTHER, len(parent)))
    o_type = np.where(src[parent] == OUTBOUND, EMAIL_CLICK, o_type)
    anchor = np.where(mql[parent], leads.mql[parent], leads.created[parent] + 20 * DAY)
    lo = leads.created[parent] - 21 * DAY
    o_time = lo + rng.beta(2.5, 1.5, len(parent)) * (anchor + 21 * DAY - lo)

    lead = np.concatenate([creating, trigger, parent])
    kind = np.concatenate([c_type, t_type, o_type]).astype(np.int64)
    occurred = np.concatenate(
        [
            leads.created[creating] - rng.uniform(5, 90, len(creating)),
            leads.mql[trigger] - rng.uniform(5, 60, len(trigger)),
            o_time,
        ]
    )
    first_touch = np.arange(len(lead)) < len(creating)
    keep = occurred <= T1
    lead, kind, occurred, first_touch = lead[keep], kind[keep], occurred[keep], first_touch[keep]
    m = len(lead)

    utm_s, utm_m, utm_c = (np.full(m, None, dtype=object) for _ in range(3))
    campaign = np.full(m, None, dtype=object)
    paid = leads.campaign[lead] >= 0
    carry = first_touch | (paid & (kind == WEB_VISIT) & (rng.random(m) < 0.3))
    carry &= leads.utm[0][lead] != None  # noqa: E711 - elementwise on object array
    utm_s[carry], utm_m[carry], utm_c[carry] = (leads.utm[i][lead[carry]] for i in range(3))
    campaign[carry] = leads.campaign_id[lead[carry]]
    mail = kind == EMAIL_CLICK
    utm_s[mail], utm_m[mail], utm_c[mail] = "hubspot", "email", "monthly_newsletter"
    campaign[mail] = NURTURE_CAMPAIGN_ID
    web = (kind == WEBINAR_ATTENDED) & ~first_touch
    campaign[web], _ = marketing_campaign_ids("webinar", occurred[web])
    page = np.empty(m, dtype=object)
    for k, paths in PAGES.items():
        rows = np.flatnonzero(kind == k)
        page[rows] = SITE + object_array(paths)[rng.integers(0, len(paths), len(rows))]
    signup = first_touch & (src[lead] == PLG)
    page[signup] = SITE + "/signup"

    order = np.argsort(occurred, kind="stable")
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    return {
        "id": seq_ids("eng_", rank + 1, 16),
        SORT_KEY: rank,
        "activity_type": object_array(ENGAGEMENT_TYPES)[kind],
        "occurred_at": occurred,
        "email": leads.email[lead],
        "lead_id": or_null(rng.random(m) >= 0.02, lead_ids[lead]),
        "campaign_id": campaign,
        "utm_source": utm_s,
        "utm_medium": utm_m,
        "utm_campaign": utm_c,
        "page_url": page,
        "_fivetran_synced": sync_times(rng, occurred + rng.uniform(5 * MINUTE, 90 * MINUTE, m)),
    }
