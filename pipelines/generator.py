"""Deterministic, seeded demo data for Flywheel's raw sources.

Writes every table declared in `models/sources.yml` (Salesforce, Stripe, product events, marketing) in the shape the
managed connectors land them, for a fictional B2B SaaS company over two years of history (2024-11-01 through
2026-10-31). The data is generated, not sampled: one funnel simulation (leads -> MQL -> accepted -> converted ->
opportunity -> won -> subscription -> seat changes -> churn or renewal) drives all tables, so the downstream funnel,
speed-to-lead, MRR, churn and CAC models see coherent numbers. A few per cent of records then meet the shared
definitions at their edges (`add_edge_cases`: fit-only MQLs, conversions without an acceptance date, several leads
converted into one opportunity, recycled leads, reassigned deals, mid-term cancellations of annual plans, spend with
no lead to allocate it to, leads created on either side of midnight at every month end), drawn from a random stream
of their own so that every other record stays as the simulation made it.

Everything is vectorised with numpy and derived from one seed, the "today" anchor is a constant, rows are sorted by
primary key and floats have fixed formatting, so two runs with the same seed write byte-identical files. As Parquet,
product events are a folder `product/events/` with one file per receipt day (`<YYYY-MM-DD>.parquet`), the way
event-tracking exports land; at `tiny`, `medium` and `large` they are drawn month by month (`EventPlan`) so memory
stays bounded. Strings are built as fixed-width bytes or straight as Arrow arrays, not as Python str objects.

    python -m pipelines.generator --scale small --out seeds --seed 42
    python -m pipelines.generator --scale medium --out /tmp/flywheel-raw --format parquet
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

Table = dict[str, np.ndarray]
TableKey = tuple[str, str]

# --------------------------------------------------------------------------------------------------------------------
# Calendar: a fixed "today" so the output never depends on the wall clock.
# --------------------------------------------------------------------------------------------------------------------
MINUTE = 60.0
HOUR = 3_600.0
DAY = 86_400.0
START = np.datetime64("2024-11-01T00:00:00", "s")
TODAY = np.datetime64("2026-11-01T00:00:00", "s")  # history runs through 2026-10-31
T0 = float(START.astype(np.int64))
T1 = float(TODAY.astype(np.int64))
N_DAYS = int((T1 - T0) // DAY)
SYNC_END = T1 + 3 * HOUR  # the last connector run finishes a little after midnight
PRE_HISTORY = float(np.datetime64("2023-01-02T00:00:00", "s").astype(np.int64))
DRIFT_AT = float(np.datetime64("2026-03-01T00:00:00", "s").astype(np.int64))  # MQL threshold lowered
PRICE_CHANGE_AT = float(np.datetime64("2025-09-01T00:00:00", "s").astype(np.int64))  # Growth monthly repriced
FAR_FUTURE = float(np.datetime64("9999-12-31T23:59:59", "s").astype(np.int64))

# --------------------------------------------------------------------------------------------------------------------
# Scales
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Size knobs of a generated data set; everything else follows from the simulated funnel."""

    name: str
    n_users: int
    n_accounts: int
    n_leads: int
    engagements_per_lead: float  # mean marketing engagements of a lead that never became MQL
    tracked_seat_share: float  # share of paid seats that show up as tracked product users
    events_per_user_month: float  # product events per tracked active user per month
    monthly_events: bool = True  # draw product events month by month (`EventPlan`); False: the seeds' single draw


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", n_users=14, n_accounts=110, n_leads=200, engagements_per_lead=0.15,
                  tracked_seat_share=0.02, events_per_user_month=1.0),
    "small": Scale("small", n_users=40, n_accounts=2_900, n_leads=6_800, engagements_per_lead=0.15,
                   tracked_seat_share=0.02, events_per_user_month=1.0, monthly_events=False),
    "medium": Scale("medium", n_users=400, n_accounts=430_000, n_leads=1_000_000, engagements_per_lead=0.15,
                    tracked_seat_share=0.2, events_per_user_month=4.8),
    "large": Scale("large", n_users=2_000, n_accounts=4_300_000, n_leads=10_000_000, engagements_per_lead=0.15,
                   tracked_seat_share=0.2, events_per_user_month=4.8),
}  # fmt: skip

# --------------------------------------------------------------------------------------------------------------------
# Output contract: the columns of models/sources.yml, in order, with the kind used to format them.
# --------------------------------------------------------------------------------------------------------------------
STR, TS, DATE, BOOL, INT, FLOAT = "str", "ts", "date", "bool", "int", "float"


def _cols(spec: str) -> list[tuple[str, str]]:
    """Parse 'name:kind name:kind ...' (kind defaults to str)."""
    out = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        out.append((name, kind or STR))
    return out


COLUMNS: dict[TableKey, list[tuple[str, str]]] = {
    ("salesforce", "user"): _cols(
        "id name first_name last_name email title department division manager_id is_active:bool created_date:ts "
        "_fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "account"): _cols(
        "id name type industry number_of_employees:int annual_revenue:float billing_country account_source owner_id "
        "product_workspace_id_c created_date:ts is_deleted:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "lead"): _cols(
        "id first_name last_name name email phone title company industry number_of_employees:int "
        "annual_revenue:float country lead_source status owner_id created_date:ts is_converted:bool "
        "converted_date:date converted_account_id converted_contact_id converted_opportunity_id utm_source_c "
        "utm_medium_c utm_campaign_c mql_date_c:ts accepted_date_c:ts rejected_date_c:ts rejection_reason_c "
        "product_workspace_id_c is_deleted:bool system_modstamp:ts _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "contact"): _cols(
        "id account_id first_name last_name name email phone title lead_source owner_id created_date:ts "
        "is_deleted:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "opportunity"): _cols(
        "id account_id name type stage_name amount:float probability:float forecast_category close_date:date "
        "created_date:ts is_closed:bool is_won:bool lead_source owner_id campaign_id loss_reason_c is_deleted:bool "
        "system_modstamp:ts _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "opportunity_history"): _cols(
        "id opportunity_id stage_name amount:float probability:float forecast_category close_date:date "
        "created_date:ts created_by_id is_deleted:bool system_modstamp:ts _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "task"): _cols(
        "id who_id what_id account_id owner_id subject description type task_subtype status activity_date:date "
        "created_date:ts completed_date_time:ts is_closed:bool is_deleted:bool _fivetran_synced:ts "
        "_fivetran_deleted:bool"
    ),
    ("salesforce", "event"): _cols(
        "id who_id what_id account_id owner_id subject description type start_date_time:ts end_date_time:ts "
        "duration_in_minutes:int created_date:ts is_deleted:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("stripe", "customer"): _cols(
        "id name email description currency delinquent:bool metadata created:ts livemode:bool is_deleted:bool "
        "_fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("stripe", "price"): _cols(
        "id product_id nickname currency unit_amount:int type recurring_interval recurring_interval_count:int "
        "active:bool created:ts livemode:bool is_deleted:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("stripe", "subscription"): _cols(
        "id customer_id status created:ts start_date:ts current_period_start:ts current_period_end:ts "
        "cancel_at_period_end:bool canceled_at:ts ended_at:ts trial_start:ts trial_end:ts metadata livemode:bool "
        "is_deleted:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("stripe", "subscription_item"): _cols(
        "id subscription_id price_id plan_id quantity:int created:ts metadata _fivetran_start:ts _fivetran_end:ts "
        "_fivetran_active:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("product", "events"): _cols("id event user_id account_id timestamp:ts received_at:ts"),
    ("marketing", "engagements"): _cols(
        "id activity_type occurred_at:ts email lead_id campaign_id utm_source utm_medium utm_campaign page_url "
        "_fivetran_synced:ts"
    ),
    ("marketing", "ad_spend"): _cols(
        "date:date platform campaign_id campaign_name utm_source utm_medium utm_campaign spend:float currency "
        "impressions:int clicks:int _fivetran_synced:ts"
    ),
}
EVENTS: TableKey = ("product", "events")  # written as one Parquet file per receipt day (see write_event_days)
SORT_KEY = "_key"  # optional hidden column: a number whose order is the primary-key order of the table
PRIMARY_KEYS: dict[TableKey, list[str]] = {
    ("stripe", "subscription_item"): ["id", "_fivetran_start"],
    ("marketing", "ad_spend"): ["date", "platform", "campaign_id"],
    ("product", "events"): ["id", "received_at"],
}

# --------------------------------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    """A vocabulary written as one space-separated string."""
    return text.split()


SEGMENTS = ["SMB", "Mid-Market", "Enterprise"]
DEPARTMENTS = ["Sales Development", "Account Executives", "Customer Success"]
SDR, AE, CSM = 0, 1, 2

FIRST_NAMES = _words(
    "Ada Alan Alex Amara Ana Ben Bianca Carla Chen Chloe Dana David Diego Elena Emma Eric Fatima Felix Grace Hana "
    "Hugo Ines Ivan Jack Jana Jonas Julia Kai Kara Leo Lina Liam Maya Mia Milan Nina Noah Omar Olivia Oscar Paula "
    "Priya Rafael Rosa Sam Sara Tariq Theo Uma Vera Yuki Zoe"
)
LAST_NAMES = _words(
    "Abbott Alvarez Baker Becker Brooks Castillo Chen Clarke Costa Dubois Evans Fischer Garcia Gupta Hansen Hayes "
    "Ito Jensen Kaur Keller Kim Kowalski Larsen Lopez Martin Meyer Moreau Murphy Nakamura Novak Olsen Patel Perez "
    "Quinn Reyes Rossi Sato Schmidt Silva Singh Sullivan Tanaka Torres Vogel Walsh Weber Wong Young Zimmer"
)
COMPANY_A = _words(
    "Acme Apex Arbor Beacon Birch Blue Bright Cedar Cobalt Copper Crest Delta Echo Ember Falcon Fern Granite Harbor "
    "Helix Indigo Iron Juniper Kestrel Lumen Maple Meridian Nimbus Nova Oak Onyx Orbit Pine Quartz Radiant Redwood "
    "Sage Sierra Slate Summit Tidal Vertex Willow Zenith"
)
COMPANY_B = _words(
    "Analytics Labs Systems Logistics Health Capital Media Works Software Retail Foods Robotics Energy Partners "
    "Networks Studios Dynamics Bio Learning Freight Cloud Data Security Finance"
)
COMPANY_SUFFIX = [" Inc", " LLC", " Ltd", " GmbH", " Group", " Co", "", "", "", ""]
AREA_CODES = _words("202 212 303 312 415 512 617 646 702 718 773 808 917 919 971")

INDUSTRIES = [  # name, weight, ICP fit
    ("Software", 0.20, 1), ("Financial Services", 0.10, 1), ("Professional Services", 0.10, 1), ("Media", 0.06, 1),
    ("Telecommunications", 0.05, 1), ("Healthcare", 0.08, 0), ("Retail", 0.08, 0), ("Manufacturing", 0.09, 0),
    ("Logistics", 0.06, 0), ("Education", 0.07, 0), ("Non-Profit", 0.05, 0), ("Government", 0.03, 0),
    ("Energy", 0.03, 0),
]  # fmt: skip
COUNTRIES = [  # name, weight, core market
    ("United States", 0.52, 1), ("United Kingdom", 0.10, 1), ("Canada", 0.07, 1), ("Germany", 0.07, 0),
    ("France", 0.04, 0), ("Netherlands", 0.03, 0), ("Australia", 0.04, 1), ("Ireland", 0.02, 1), ("Sweden", 0.02, 0),
    ("Spain", 0.02, 0), ("India", 0.04, 0), ("Brazil", 0.03, 0),
]  # fmt: skip
LEAD_TITLES = [  # title, seniority (fit), weight; seniority <= -1.5 marks students and job seekers
    ("Chief Revenue Officer", 0.9, 2), ("VP of Sales", 0.9, 4), ("VP of Marketing", 0.7, 3), ("VP of Finance", 0.8, 2),
    ("Head of Revenue Operations", 0.9, 4), ("Director of Sales Operations", 0.7, 6), ("Director of Marketing", 0.5, 5),
    ("Director of FP&A", 0.6, 3), ("Revenue Operations Manager", 0.6, 9), ("Sales Manager", 0.4, 7),
    ("Marketing Manager", 0.3, 7), ("Finance Manager", 0.3, 4), ("Business Analyst", 0.1, 8), ("Data Analyst", 0.1, 8),
    ("Account Executive", 0.0, 6), ("Marketing Specialist", 0.0, 6), ("Operations Associate", -0.1, 5),
    ("Consultant", -0.2, 3), ("Founder", 0.6, 3), ("Student", -2.0, 2), ("Job Seeker", -2.0, 1), ("Intern", -1.5, 1),
]  # fmt: skip
CONTACT_TITLES = [
    "Workspace Admin", "RevOps Analyst", "Sales Operations Manager", "Finance Director", "CFO", "Head of Sales",
    "IT Manager", "Marketing Operations Manager",
]  # fmt: skip

LEAD_SOURCES = [
    "Organic Search", "Paid Search", "Paid Social", "Event", "Outbound", "Referral", "Product Sign-up", "Webinar",
    "Partner",
]  # fmt: skip
ORGANIC, PAID_SEARCH, PAID_SOCIAL, EVENT, OUTBOUND, REFERRAL, PLG, WEBINAR, PARTNER = range(9)
SOURCE_WEIGHT = np.array([0.18, 0.14, 0.10, 0.06, 0.16, 0.06, 0.16, 0.08, 0.06])
SOURCE_INTENT = np.array([0.3, 0.5, 0.1, 0.4, -1.0, 0.9, 0.6, 0.3, 0.6])
SOURCE_EMPLOYEES = np.log([60, 80, 70, 200, 300, 120, 25, 100, 150])  # median company size by source
SOURCE_GROWTH = np.array([0.8, 0.6, 0.6, 0.3, 0.4, 0.8, 1.6, 0.6, 0.6])  # lead volume growth over the history
ODD_SOURCE: dict[int, list[str | None]] = {  # raw picklist values a real CRM accumulates, by the source they really are
    ORGANIC: ["Web", None], PAID_SEARCH: ["google cpc", "paid search"], PAID_SOCIAL: ["linkedin", None],
    EVENT: ["Trade Show"], OUTBOUND: [None], REFERRAL: ["Other"], PLG: [None, "Other"], WEBINAR: ["Other"],
    PARTNER: ["Other"],
}  # fmt: skip

LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Nurture", "Disqualified", "Converted"]
REJECTION_REASONS = [
    "No Budget", "Not ICP", "No Authority", "Competitor", "Student or Job Seeker", "Duplicate", "Bad Contact Data",
    "Timing",
]  # fmt: skip
REJECT_W_LOW_FIT = [0.10, 0.40, 0.05, 0.02, 0.06, 0.10, 0.22, 0.05]
REJECT_W_NORMAL = [0.25, 0.08, 0.20, 0.10, 0.01, 0.08, 0.06, 0.22]
REJECT_W_AFTER_ACCEPT = [0.35, 0.05, 0.20, 0.15, 0.0, 0.0, 0.0, 0.25]
STUDENT_REASON = 4

STAGES = ["Prospecting", "Discovery", "Demo", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
WON, LOST = 5, 6
STAGE_PROBABILITY = np.array([10.0, 20.0, 40.0, 60.0, 80.0, 100.0, 0.0])
STAGE_FORECAST = ["Pipeline", "Pipeline", "Pipeline", "Best Case", "Commit", "Closed", "Omitted"]
STAGE_ADVANCE = np.array([0.82, 0.72, 0.68, 0.72, 0.78])  # Prospecting->Discovery ... Negotiation->Won
STAGE_DAYS = np.array([[3, 5, 6, 7, 5], [5, 8, 10, 12, 10], [8, 14, 20, 25, 20]], dtype=float)  # by segment
OPP_TYPES = ["New Business", "Expansion", "Renewal"]
NEW_BUSINESS, EXPANSION, RENEWAL = range(3)
LOSS_REASONS = ["Price", "Missing Feature", "Competitor", "No Decision", "Timing", "Champion Left", "Poor Fit"]
LOSS_W_EARLY = [0.05, 0.05, 0.07, 0.35, 0.22, 0.03, 0.23]
LOSS_W_LATE = [0.30, 0.18, 0.24, 0.12, 0.06, 0.07, 0.03]
LOSS_W_RENEWAL = [0.25, 0.20, 0.12, 0.08, 0.05, 0.20, 0.10]

PLANS = ["Starter", "Growth", "Enterprise"]
MONTHLY_CENTS = np.array([4_000, 8_000, 15_000])  # per seat; annual prices are 10x monthly (two months free)
LEGACY_GROWTH_MONTHLY_CENTS = 7_000  # Growth monthly before PRICE_CHANGE_AT
PLAN_BY_SEGMENT = np.array([[0.6, 0.4, 0.0], [0.0, 0.8, 0.2], [0.0, 0.15, 0.85]])
ANNUAL_SHARE = np.array([0.15, 0.35, 0.70])
ACV_MEDIAN = np.array([10_000.0, 38_000.0, 150_000.0])
ACV_RANGE = np.array([[5_000.0, 20_000.0], [20_000.0, 80_000.0], [80_000.0, 400_000.0]])
MONTHLY_CHURN = np.array([0.030, 0.020, 0.012])
SELF_SERVE_CHURN = 0.045
ANNUAL_CHURN = np.array([0.18, 0.12, 0.08])  # at renewal
EXPANSION_RATE = np.array([0.05, 0.07, 0.09])  # seat expansions per month
CONTRACTION_RATE = 0.025

CAMPAIGNS = [  # platform, id, name, utm_source, utm_medium, utm_campaign, first day, last day, daily $, CPL weight
    ("google_ads", "21045873310", "Brand Search", "google", "cpc", "brand_search", "2024-11-01", "", 180, 140),
    ("google_ads", "21045873311", "Non-Brand - Revenue Analytics", "google", "cpc", "nb_revenue_analytics",
     "2024-11-01", "", 260, 320),
    ("google_ads", "21045873312", "Competitor Conquesting", "google", "cpc", "competitor_conquest", "2025-02-10",
     "2026-05-31", 150, 420),
    ("google_ads", "21045873313", "Non-Brand - Pipeline Forecasting", "google", "cpc", "nb_pipeline_forecasting",
     "2025-06-02", "", 200, 360),
    ("linkedin_ads", "512034871", "ABM - Enterprise Accounts", "linkedin", "paid_social", "abm_enterprise",
     "2024-11-01", "", 220, 650),
    ("linkedin_ads", "512034872", "Lead Gen Form - RevOps Playbook", "linkedin", "paid_social",
     "leadgen_revops_playbook", "2025-01-06", "2026-03-31", 180, 380),
    ("linkedin_ads", "512034873", "Thought Leadership - CFO Video", "linkedin", "paid_social", "tl_cfo_video",
     "2025-09-01", "", 120, 700),
    ("meta_ads", "120210004471", "Retargeting - Website Visitors", "facebook", "paid_social", "retargeting_site",
     "2024-11-01", "", 90, 160),
    ("meta_ads", "120210004472", "Lookalike - Customers", "facebook", "paid_social", "lookalike_customers",
     "2025-03-03", "", 110, 240),
    ("meta_ads", "120210004473", "Free Trial Promo", "facebook", "paid_social", "free_trial_promo", "2025-11-03",
     "2026-08-31", 80, 130),
]  # fmt: skip
PLATFORM_CPM = {"google_ads": 38.0, "linkedin_ads": 62.0, "meta_ads": 11.0}
PLATFORM_CTR = {"google_ads": 0.045, "linkedin_ads": 0.006, "meta_ads": 0.011}
PLATFORM_WEEKEND = {"google_ads": 0.7, "linkedin_ads": 0.0, "meta_ads": 1.0}  # LinkedIn runs on weekdays

ENGAGEMENT_TYPES = ["form_fill", "email_click", "web_visit", "pricing_page_visit", "demo_request", "webinar_attended"]
FORM_FILL, EMAIL_CLICK, WEB_VISIT, PRICING_VISIT, DEMO_REQUEST, WEBINAR_ATTENDED = range(6)
ENGAGEMENT_W_MQL = [0.08, 0.25, 0.30, 0.22, 0.05, 0.10]
ENGAGEMENT_W_OTHER = [0.04, 0.38, 0.47, 0.05, 0.0, 0.06]
SITE = "https://www.example.com"
PAGES = {
    FORM_FILL: ["/contact", "/ebooks/revops-playbook", "/guides/pipeline-forecasting", "/newsletter"],
    EMAIL_CLICK: ["/blog/speed-to-lead", "/blog/net-revenue-retention", "/customers", "/blog/cac-payback"],
    WEB_VISIT: ["/", "/product", "/blog/speed-to-lead", "/customers", "/integrations", "/blog/funnel-metrics"],
    PRICING_VISIT: ["/pricing"],
    DEMO_REQUEST: ["/demo"],
    WEBINAR_ATTENDED: ["/webinars/live"],
}
PRODUCT_EVENTS = [
    "signed_up", "trial_started", "logged_in", "project_created", "invited_teammate", "integration_connected",
    "report_shared",
]  # fmt: skip
SIGNED_UP, TRIAL_STARTED, LOGGED_IN, PROJECT_CREATED, INVITED, INTEGRATION, REPORT_SHARED = range(7)
USAGE_W = np.array([0.0, 0.0, 0.50, 0.14, 0.06, 0.10, 0.20])

CALL_SUBJECTS = ["Call", "Intro call", "Follow-up call"]
EMAIL_SUBJECTS = ["Email: Intro", "Email: Follow up", "Email: Next steps"]
CALL_NOTES = [
    "Left voicemail, will try again tomorrow.", "Connected - interested, booked discovery.", "No answer.",
    "Asked to call back next week.", "Gatekeeper, got direct line.", "Walked through pricing questions.",
    "Confirmed timeline and next steps.",
]  # fmt: skip
EMAIL_NOTES = [
    "Sent intro with case study.", "Followed up on demo request.", "Shared pricing one-pager.",
    "Sent recap and next steps.", "Checked in on evaluation.", "Bumped previous thread.",
]  # fmt: skip

# --------------------------------------------------------------------------------------------------------------------
# Low-level helpers: time arithmetic, ids, formatting, sampling
# --------------------------------------------------------------------------------------------------------------------
ALNUM = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
LOWER_ALNUM = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def _obj(values: Sequence[object]) -> np.ndarray:
    """A lookup array of Python objects (strings or None)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _bytes_to_str(matrix: np.ndarray) -> np.ndarray:
    """Rows of an ASCII byte matrix as fixed-width numpy bytes (dtype S<width>).

    Ids stay numpy bytes through the simulation: indexing, concatenating and sorting them are memory copies, and
    Arrow turns them into strings without a Python object per value (object arrays of str cost both ways). Where
    an id lands in an object array it is a `bytes` object there, which Arrow also takes as a string."""
    return np.ascontiguousarray(matrix, dtype=np.uint8).view(f"S{matrix.shape[1]}").reshape(-1)


def _str(values: np.ndarray) -> np.ndarray:
    """Fixed-width numpy bytes as an object array of str, for text that is built with Python string operators."""
    return np.asarray(values).astype(str).astype(object)


def _digits_matrix(prefix: str, numbers: np.ndarray, width: int = 15) -> np.ndarray:
    """Salesforce-style ids as an ASCII byte matrix: prefix + zero-padded number, `width` characters in total."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    matrix = np.empty((len(numbers), width), dtype=np.uint8)
    matrix[:, : len(head)] = head
    rest = np.asarray(numbers, dtype=np.int64).copy()
    for pos in range(width - 1, len(head) - 1, -1):
        matrix[:, pos] = 48 + rest % 10
        rest //= 10
    return matrix


def _seq_ids(prefix: str, numbers: np.ndarray, width: int = 15) -> np.ndarray:
    """Salesforce-style ids: prefix + zero-padded number, `width` characters in total."""
    return _bytes_to_str(_digits_matrix(prefix, numbers, width))


def _base62_matrix(prefix: str, parts: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    """prefix + fixed-width base62 encodings of integers as an ASCII byte matrix, so text order is numeric order."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    width = len(head) + sum(w for _, w in parts)
    matrix = np.empty((len(parts[0][0]), width), dtype=np.uint8)
    matrix[:, : len(head)] = head
    pos = width
    for values, w in reversed(parts):
        rest = np.asarray(values, dtype=np.int64).copy()
        for col in range(pos - 1, pos - w - 1, -1):
            matrix[:, col] = ALNUM[rest % 62]
            rest //= 62
        pos -= w
    return matrix


def _base62_ids(prefix: str, parts: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    """prefix + fixed-width base62 encodings of integers, so text order equals numeric order."""
    return _bytes_to_str(_base62_matrix(prefix, parts))


def _fixed_width_text(rows: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """An Arrow string array straight from fixed-width ASCII rows (a 2-D uint8 matrix or a 1-D array of records).

    Arrow's string layout is offsets plus one data buffer, and fixed-width rows already are that data buffer: no
    Python string is ever made, which is what turning numpy object arrays into Arrow cost (see benchmarks/results.md).
    """
    rows = np.ascontiguousarray(rows)
    n = len(rows)
    width = rows.itemsize if rows.ndim == 1 else rows.shape[1] * rows.itemsize
    if n * width >= 2**31:  # int32 offsets: split into chunks of Arrow's regular string type
        step = (2**31 - 1) // max(width, 1)
        return pa.chunked_array(  # type: ignore[return-value]
            [
                _fixed_width_text(rows[i : i + step], None if null is None else null[i : i + step])
                for i in range(0, n, step)
            ]
        )
    offsets = pa.py_buffer(np.arange(0, width * (n + 1), width, dtype=np.int32))
    data = pa.py_buffer(rows.reshape(-1).view(np.uint8) if n else np.empty(0, np.uint8))
    if null is None or not null.any():
        return pa.Array.from_buffers(pa.string(), n, [None, offsets, data], null_count=0)
    valid = pa.py_buffer(np.packbits(~null, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), n, [valid, offsets, data], null_count=int(null.sum()))


@cache
def _clock_text() -> np.ndarray:
    """'HH:MM:SS' of every second of a day, as 8-byte records."""
    second = np.arange(86_400)
    digits = np.stack([second // 36_000, second // 3_600 % 10, second // 600 % 6, second // 60 % 10,
                       second % 60 // 10, second % 10], axis=1) + 48  # fmt: skip
    out = np.full((86_400, 8), ord(":"), dtype=np.uint8)
    out[:, [0, 1, 3, 4, 6, 7]] = digits
    return out.reshape(-1).view("S8")


def _calendar_text(values: np.ndarray, kind: str) -> pa.Array:
    """Epoch seconds (NaN = null) as 'YYYY-MM-DD HH:MM:SS' (TS) or 'YYYY-MM-DD' (DATE) text, the way Arrow's cast
    of a timestamp to string writes them, without the cast: each distinct day is formatted once and each second
    of the day comes from a table, so a column costs two gathers."""
    v = np.asarray(values, dtype=np.float64)
    null = np.isnan(v)
    seconds = np.where(null, 0.0, np.floor(v)).astype(np.int64)
    days = seconds // 86_400
    if len(days) and not null.all():
        lo, hi = int(days[~null].min()), int(days[~null].max())
    else:
        lo = hi = 0
    days = np.where(null, lo, days)
    if hi - lo <= 100_000:  # a dense calendar (about 270 years) is cheaper than finding the distinct days
        calendar = np.datetime_as_string(np.arange(lo, hi + 1).astype("datetime64[D]")).astype("S10")
        day_text = calendar[days - lo]
    else:
        distinct, inverse = np.unique(days, return_inverse=True)
        day_text = np.datetime_as_string(distinct.astype("datetime64[D]")).astype("S10")[inverse]
    if kind == DATE:
        return _fixed_width_text(day_text, null)
    rows = np.empty(len(v), dtype=[("day", "S10"), ("space", "S1"), ("clock", "S8")])
    rows["day"], rows["space"], rows["clock"] = day_text, b" ", _clock_text()[seconds % 86_400]
    return _fixed_width_text(rows, null)


def _tokens(rng: np.random.Generator, n: int, prefix: str, length: int, alphabet: np.ndarray = ALNUM) -> np.ndarray:
    """Stripe-style random ids: prefix + `length` random characters."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    matrix = np.empty((n, len(head) + length), dtype=np.uint8)
    matrix[:, : len(head)] = head
    matrix[:, len(head) :] = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    return _bytes_to_str(matrix)


def _epoch(day: str) -> float:
    """'YYYY-MM-DD' -> epoch seconds."""
    return float(np.datetime64(day, "s").astype(np.int64))


def _day_start(t: np.ndarray) -> np.ndarray:
    """Midnight of the day of each timestamp."""
    return np.floor(t / DAY) * DAY


def _add_months(t: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Calendar-month arithmetic as in Stripe billing periods (day of month clipped to the month's end)."""
    seconds = np.asarray(t, dtype=np.float64).astype(np.int64).astype("datetime64[s]")
    day = seconds.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    day_of_month = (day - month.astype("datetime64[D]")).astype(np.int64)
    time_of_day = (seconds - day.astype("datetime64[s]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    first = target.astype("datetime64[D]")
    length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64)
    out_day = first.astype(np.int64) + np.minimum(day_of_month, length - 1)
    return (out_day * 86_400 + time_of_day).astype(np.float64)


def _months_between(a: np.ndarray, b: float | np.ndarray) -> np.ndarray:
    """Whole calendar months m with add_months(a, m) <= b."""
    month_a = np.asarray(a).astype(np.int64).astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), np.shape(a))
    month_b = b_arr.astype(np.int64).astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    diff = month_b - month_a
    return diff - (_add_months(a, diff) > b_arr)


def _day_weights(growth: float, weekend: float = 0.3) -> np.ndarray:
    """Probability of each history day: growth trend, quiet weekends, a December and August dip."""
    offset = np.arange(N_DAYS)
    days = START.astype("datetime64[D]") + offset
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    month = days.astype("datetime64[M]").astype(np.int64) % 12  # January = 0
    w = (1.0 + growth * offset / N_DAYS) * np.where(weekday >= 5, weekend, 1.0)
    w *= np.where(month == 11, 0.8, 1.0) * np.where(month == 7, 0.85, 1.0)
    return w / w.sum()


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight UTC, mostly North-American business hours."""
    hours = np.where(rng.random(n) < 0.8, rng.normal(17.0, 2.6, n), rng.uniform(0.0, 24.0, n)) % 24.0
    return hours * HOUR


def _sample_times(rng: np.random.Generator, n: int, growth: float) -> np.ndarray:
    """Timestamps over the history following `_day_weights`."""
    day = rng.choice(N_DAYS, size=n, p=_day_weights(growth))
    return T0 + day * DAY + _time_of_day(rng, n)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function: turns a score into a probability."""
    return 1.0 / (1.0 + np.exp(-x))


def _happened(t: np.ndarray) -> np.ndarray:
    """True where a timestamp exists and is not in the future."""
    return np.asarray(t) <= T1


def _only_past(t: np.ndarray) -> np.ndarray:
    """Null out timestamps after today."""
    return np.where(_happened(t), t, np.nan)


def _synced(rng: np.random.Generator, last_change: np.ndarray, late_share: float = 0.005) -> np.ndarray:
    """`_fivetran_synced`: a little after the last change; a few rows land days late; never after the last sync."""
    n = len(last_change)
    last_change = np.minimum(last_change, T1)
    delay = 2 * MINUTE + rng.exponential(40 * MINUTE, n)
    late = rng.random(n) < late_share
    delay[late] += rng.uniform(1.0, 6.0, int(late.sum())) * DAY
    synced = last_change + delay
    over = synced > SYNC_END
    synced[over] = last_change[over] + (SYNC_END - last_change[over]) * rng.uniform(0.3, 1.0, int(over.sum()))
    return synced


def _pick(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """Indices drawn with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _pick_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix."""
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random(len(probabilities))[:, None] * cumulative[:, -1:]
    return np.minimum((u > cumulative).sum(axis=1), probabilities.shape[1] - 1)


def _null_some(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """A copy of an object or float array with a random share of nulls (bytes become an object array)."""
    out = values.astype(object) if values.dtype.kind == "S" else values.copy()
    hit = rng.random(len(values)) < share
    out[hit] = None if out.dtype == object else np.nan
    return out


def _or_null(keep: np.ndarray, values: np.ndarray) -> np.ndarray:
    """An object array with `values` where `keep`, else None."""
    out = np.full(len(keep), None, dtype=object)
    out[keep] = np.asarray(values, dtype=object)[keep]
    return out


def _lookup_or_null(vocabulary: np.ndarray, index: np.ndarray) -> np.ndarray:
    """vocabulary[index], with None where index is negative."""
    return _or_null(index >= 0, vocabulary[np.maximum(index, 0)])


def _concat(parts: Sequence[np.ndarray]) -> np.ndarray:
    """np.concatenate that accepts an empty list."""
    return np.concatenate([np.asarray(p) for p in parts]) if parts else np.empty(0)


def _group_offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For np.repeat(arange(len(counts)), counts): the parent index and the rank within the parent."""
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return parent, np.arange(len(parent)) - starts[parent]


def _names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random first and last names, as indices into FIRST_NAMES and LAST_NAMES."""
    return rng.integers(0, len(FIRST_NAMES), n), rng.integers(0, len(LAST_NAMES), n)


def _vocab(words: Sequence[str]) -> np.ndarray:
    """A lookup array of ASCII words as fixed-width numpy bytes (see `_bytes_to_str` for why not str objects)."""
    return np.array([word.encode("ascii") for word in words], dtype=bytes)


def _join(*parts: np.ndarray | bytes) -> np.ndarray:
    """Element-wise concatenation of fixed-width bytes arrays and bytes constants: a C loop, not a Python object
    per value and operator as `+` on object arrays of str is."""
    out = np.asarray(parts[0])
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return out


def _name_text(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last names as text (fixed-width bytes)."""
    return _vocab(FIRST_NAMES)[first], _vocab(LAST_NAMES)[last]


def _companies(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fictional company names and their e-mail domains (always under example.com), as fixed-width bytes."""
    a = rng.integers(0, len(COMPANY_A), n)
    b = rng.integers(0, len(COMPANY_B), n)
    suffix = rng.integers(0, len(COMPANY_SUFFIX), n)
    name = _join(_vocab(COMPANY_A)[a], b" ", _vocab(COMPANY_B)[b], _vocab(COMPANY_SUFFIX)[suffix])
    domain = _join(
        _vocab([w.lower() for w in COMPANY_A])[a], _vocab([w.lower() for w in COMPANY_B])[b], b".example.com"
    )
    return name, domain


def _emails(first: np.ndarray, last: np.ndarray, domain: np.ndarray | bytes) -> np.ndarray:
    """first.last@domain from name indices."""
    lower_first = _vocab([name.lower() for name in FIRST_NAMES])[first]
    lower_last = _vocab([name.lower() for name in LAST_NAMES])[last]
    return _join(lower_first, b".", lower_last, b"@", domain)


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Fictional numbers from the reserved 555-0100..555-0199 range."""
    area = _obj(AREA_CODES)[rng.integers(0, len(AREA_CODES), n)]
    return "+1-" + area + "-555-01" + _obj([f"{i:02d}" for i in range(100)])[rng.integers(0, 100, n)]


def _firmographics(rng: np.random.Generator, n: int, log_median: np.ndarray | float) -> dict[str, np.ndarray]:
    """Employees (log-normal), segment, industry, country and a correlated annual revenue."""
    employees = np.clip(np.round(np.exp(rng.normal(log_median, 1.3, n))), 1, 250_000)
    segment = (employees >= 100).astype(np.int64) + (employees >= 1_000)
    revenue = np.round(employees * np.exp(rng.normal(np.log(150_000.0), 0.5, n)), -3)
    return {
        "employees": employees,
        "segment": segment,
        "revenue": revenue,
        "industry": _pick(rng, [w for _, w, _ in INDUSTRIES], n),
        "country": _pick(rng, [w for _, w, _ in COUNTRIES], n),
    }


def _stale_duplicates(
    rng: np.random.Generator, table: Table, share: float, eligible: np.ndarray | None = None
) -> tuple[Table, np.ndarray]:
    """Append older copies of a few rows (same id, earlier `_fivetran_synced`), as re-syncs leave behind.

    Returns the table and the positions of the appended rows' originals, so callers can make the copies stale.
    """
    n = len(table["id"])
    pool = np.arange(n) if eligible is None else np.flatnonzero(eligible)
    k = min(len(pool), round(share * n))
    if k == 0:
        return table, np.empty(0, dtype=np.int64)
    rows = np.sort(rng.choice(pool, size=k, replace=False))
    out = {col: np.concatenate([values, values[rows]]) for col, values in table.items()}
    synced = out["_fivetran_synced"]
    created = table.get("created_date", table.get("created"))
    floor = created[rows] if created is not None else synced[n:] - 30 * DAY
    back = rng.uniform(1 * HOUR, 20 * DAY, k)
    synced[n:] = np.maximum(synced[n:] - back, floor + (synced[n:] - floor) * 0.25)
    return out, rows


# --------------------------------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Users:
    """CRM users (reps and managers) and what the owner-picking needs to know about them."""

    table: Table
    ids: np.ndarray
    dept: np.ndarray
    division: np.ndarray
    start: np.ndarray
    end: np.ndarray
    is_manager: np.ndarray
    fallback: dict[tuple[int, int], int]


def gen_users(scale: Scale, rng: np.random.Generator) -> Users:
    """Sales development reps, account executives and CSMs by segment, their managers and a couple of leavers."""
    reps = max(scale.n_users - 6, 8)
    n_sdr, n_cs = max(3, round(0.34 * reps)), max(2, round(0.2 * reps))
    n_ae = max(3, reps - n_sdr - n_cs)
    dept = np.array([AE, SDR, AE, AE, AE, CSM] + [SDR] * n_sdr + [AE] * n_ae + [CSM] * n_cs)
    ae_division = np.concatenate([[0, 1, 2], _pick(rng, [0.4, 0.35, 0.25], n_ae - 3)])
    division = np.concatenate([[2, 1, 0, 1, 2, 2], np.arange(n_sdr) % 3, ae_division, np.arange(n_cs) % 3])
    n = len(dept)
    is_manager = np.arange(n) < 6
    manager = np.full(n, -1)
    manager[1:6] = 0
    manager[6 : 6 + n_sdr] = 1
    manager[6 + n_sdr : 6 + n_sdr + n_ae] = 2 + ae_division
    manager[6 + n_sdr + n_ae :] = 5

    senior = rng.random(n) < 0.3
    titles = np.empty(n, dtype=object)
    titles[:6] = [
        "VP of Sales",
        "Sales Development Manager",
        "Sales Manager, SMB",
        "Sales Manager, Mid-Market",
        "Director of Enterprise Sales",
        "Director of Customer Success",
    ]
    rep_titles = {
        SDR: ["Sales Development Representative"] * 3,
        AE: ["Account Executive, SMB", "Account Executive, Mid-Market", "Enterprise Account Executive"],
        CSM: ["Customer Success Manager"] * 3,
    }
    for i in range(6, n):
        title = rep_titles[int(dept[i])][int(division[i])]
        titles[i] = ("Senior " + title) if senior[i] and not title.startswith("Enterprise") else title

    start = np.where(
        rng.random(n) < 0.78,
        rng.uniform(PRE_HISTORY, T0 - 7 * DAY, n),
        T0 + rng.uniform(0.05, 0.6, n) * (T1 - T0),
    )
    start[:6] = rng.uniform(PRE_HISTORY - 120 * DAY, PRE_HISTORY, 6)
    start = np.floor(start / DAY) * DAY + rng.uniform(14 * HOUR, 22 * HOUR, n)
    end = np.full(n, np.inf)
    leavers = rng.choice(np.arange(6, n), size=max(1, round(0.05 * (n - 6))), replace=False)
    lo = np.maximum(start[leavers], T0) + 90 * DAY
    end[leavers] = lo + rng.uniform(0.0, 1.0, len(leavers)) * np.maximum(T1 - 60 * DAY - lo, DAY)

    first_code, last_code = _names(rng, n)
    first, last = _name_text(first_code, last_code)
    rank = np.argsort(np.argsort(start, kind="stable"), kind="stable")
    ids = _seq_ids("005", 5_000 + rank)
    active = ~np.isfinite(end)
    last_change = np.where(active, start, end)
    table: Table = {
        "id": ids,
        SORT_KEY: rank,
        "name": _join(first, b" ", last),
        "first_name": first,
        "last_name": last,
        "email": _emails(first_code, last_code, b"example.com"),
        "title": titles,
        "department": _obj(DEPARTMENTS)[dept],
        "division": _obj(SEGMENTS)[division],
        "manager_id": _lookup_or_null(ids, manager),
        "is_active": active,
        "created_date": start,
        "_fivetran_synced": _synced(rng, last_change),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    fallback = {(SDR, d): 1 for d in range(3)} | {(AE, d): 2 + d for d in range(3)} | {(CSM, d): 5 for d in range(3)}
    return Users(table, ids, dept, division, start, end, is_manager, fallback)


def _pick_owner(rng: np.random.Generator, users: Users, dept: int, division: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A rep of the department covering each record's segment, employed at time t (else the team's manager)."""
    t = np.maximum(t, T0)
    out = np.empty(len(t), dtype=np.int64)
    for d in range(3):
        rows = np.flatnonzero(division == d)
        pool = np.flatnonzero((users.dept == dept) & (users.division == d) & ~users.is_manager)
        choice = np.full(len(rows), users.fallback[(dept, d)])
        todo = np.arange(len(rows))
        for _ in range(6 if len(pool) else 0):
            cand = pool[rng.integers(0, len(pool), len(todo))]
            ok = (users.start[cand] <= t[rows[todo]]) & (t[rows[todo]] < users.end[cand])
            choice[todo[ok]] = cand[ok]
            todo = todo[~ok]
            if len(todo) == 0:
                break
        out[rows] = choice
    return out


# --------------------------------------------------------------------------------------------------------------------
# Marketing: ad spend
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class AdSpend:
    """Daily spend per campaign (dollars) and the ad_spend table."""

    daily: np.ndarray  # (N_DAYS, n_campaigns)
    table: Table


def gen_ad_spend(scale: Scale, rng: np.random.Generator) -> AdSpend:
    """Daily spend, impressions and clicks per platform campaign; budgets scale with the lead volume."""
    factor = scale.n_leads / 7_000
    offset = np.arange(N_DAYS)
    days = T0 + offset * DAY
    weekday = ((days // DAY).astype(np.int64) + 3) % 7
    daily = np.zeros((N_DAYS, len(CAMPAIGNS)))
    for c, (network, _, _, _, _, _, first, last, budget, _) in enumerate(CAMPAIGNS):
        active = (days >= _epoch(first)) & (days <= (_epoch(last) if last else T1))
        spend = budget * factor * (1.0 + 0.5 * offset / N_DAYS) * rng.lognormal(0.0, 0.15, N_DAYS)
        spend *= np.where(weekday >= 5, PLATFORM_WEEKEND[network], 1.0)
        paused = rng.random(N_DAYS) < 0.02
        daily[:, c] = np.where(active & ~paused, np.round(spend, 2), 0.0)
    day_idx, camp = np.nonzero(daily)
    spend = daily[day_idx, camp]
    platform = _obj([c[0] for c in CAMPAIGNS])[camp]
    cpm = np.array([PLATFORM_CPM[c[0]] for c in CAMPAIGNS])[camp]
    ctr = np.array([PLATFORM_CTR[c[0]] for c in CAMPAIGNS])[camp]
    impressions = np.maximum(np.round(spend / cpm * 1_000 * rng.lognormal(0.0, 0.1, len(spend))), 1).astype(np.int64)
    clicks = rng.binomial(impressions, np.clip(ctr * rng.lognormal(0.0, 0.15, len(spend)), 0, 1))
    date = days[day_idx]
    table: Table = {
        "date": date,
        SORT_KEY: day_idx * len(CAMPAIGNS) + camp,  # campaigns are listed in (platform, campaign_id) order
        "platform": platform,
        "campaign_id": _obj([c[1] for c in CAMPAIGNS])[camp],
        "campaign_name": _obj([c[2] for c in CAMPAIGNS])[camp],
        "utm_source": _obj([c[3] for c in CAMPAIGNS])[camp],
        "utm_medium": _obj([c[4] for c in CAMPAIGNS])[camp],
        "utm_campaign": _obj([c[5] for c in CAMPAIGNS])[camp],
        "spend": spend,
        "currency": _obj(["USD"] * len(spend)),
        "impressions": impressions.astype(np.float64),
        "clicks": clicks.astype(np.float64),
        "_fivetran_synced": _synced(rng, date + DAY + rng.uniform(0.5 * HOUR, 2.5 * HOUR, len(spend)), 0.0),
    }
    return AdSpend(daily, table)


def _marketing_campaign_ids(kind: str, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Salesforce campaign ids and utm_campaign values of the monthly webinars and quarterly events."""
    month = ((t - T0) // (30.44 * DAY)).astype(np.int64)
    date = np.datetime_as_string(t.astype(np.int64).astype("datetime64[s]").astype("datetime64[M]")).astype(object)
    if kind == "webinar":
        return _seq_ids("7015e", 1_000 + month), "webinar_" + np.char.replace(date.astype(str), "-", "_").astype(object)
    quarter = month // 3
    return _seq_ids("7015e", 2_000 + quarter), "event_" + date.astype(str).astype(object)


NURTURE_CAMPAIGN_ID = "7015e0000003001"


# --------------------------------------------------------------------------------------------------------------------
# Leads
# --------------------------------------------------------------------------------------------------------------------


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


def gen_leads(scale: Scale, rng: np.random.Generator, users: Users, ads: AdSpend) -> Leads:
    """Simulate the top of the funnel: who arrives when, who becomes MQL, gets worked, accepted and converted."""
    n = scale.n_leads
    source = _pick(rng, SOURCE_WEIGHT, n)
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
            day = rng.choice(N_DAYS, size=len(rows), p=_day_weights(SOURCE_GROWTH[s]))
        created[rows] = T0 + day * DAY + _time_of_day(rng, len(rows))
    order = np.argsort(created, kind="stable")
    source, created, campaign = source[order], created[order], campaign[order]

    # Who they are.
    firmo = _firmographics(rng, n, SOURCE_EMPLOYEES[source])
    company, domain = _companies(rng, n)
    first, last = _names(rng, n)
    title_idx = _pick(rng, [w for _, _, w in LEAD_TITLES], n)
    seniority = np.array([s for _, s, _ in LEAD_TITLES])[title_idx]
    student = seniority <= -1.5
    icp = np.array([f for _, _, f in INDUSTRIES])[firmo["industry"]]
    core = np.array([f for _, _, f in COUNTRIES])[firmo["country"]]
    fit = np.array([0.0, 0.6, 0.9])[firmo["segment"]] + 0.6 * icp + 0.3 * core + seniority + rng.normal(0, 0.4, n)
    plg = source == PLG
    activated = plg & (rng.random(n) < _sigmoid(fit - 0.3))
    intent = SOURCE_INTENT[source] + rng.normal(0, 0.7, n) + 0.9 * activated
    inbound = source != OUTBOUND

    # The marketing tool's MQL flag: a score threshold (lowered in March 2026) plus list uploads it flags regardless.
    score = 40 + 22 * fit + 22 * intent
    threshold = np.where(created < DRIFT_AT, 88.0, 74.0)
    forced = inbound & (score < threshold) & (rng.random(n) < 0.06)
    fast = inbound & (score >= threshold) & (rng.random(n) < 0.35)
    lag = np.where(fast, rng.uniform(1 * MINUTE, 10 * MINUTE, n), 30 * MINUTE + rng.exponential(5 * DAY, n))
    lag = np.where(forced, rng.uniform(0, 30 * DAY, n), lag)
    mql = _only_past(np.where(inbound & ((score >= threshold) | forced), created + lag, np.nan))
    is_mql = np.isfinite(mql)

    # First touch by a rep: mostly within the hour, sometimes days, sometimes never, a few before the MQL.
    referral_like = np.isin(source, [REFERRAL, PARTNER, EVENT])
    worked = is_mql | (inbound & referral_like & (rng.random(n) < 0.45)) | ~inbound
    bucket = _pick(rng, [0.55, 0.23, 0.10, 0.08, 0.04], n)
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
    touch = _only_past(np.where(worked, touch, np.nan))
    touched = np.isfinite(touch)

    # The rep's decision: accept (SAL) or reject, after the touch and after the MQL.
    base = np.fmax(touch, mql)
    decided = base + np.where(inbound, rng.lognormal(np.log(1.5 * DAY), 1.0, n), rng.uniform(3 * DAY, 25 * DAY, n))
    quick = (touch - mql) < HOUR
    p_accept = np.where(
        is_mql,
        _sigmoid(-2.4 + 1.3 * fit + 0.5 * intent + 0.5 * quick),
        np.where(inbound, _sigmoid(-2.4 + 1.2 * fit + 0.5 * intent), _sigmoid(-3.4 + 1.2 * fit)),
    )
    p_accept[student] = 0.0
    accept = touched & (rng.random(n) < p_accept)
    p_reject = np.where(is_mql, 0.7, np.where(inbound, 0.5, 0.35))
    p_reject[student] = 1.0
    reject = touched & ~accept & (rng.random(n) < p_reject)
    accepted = _only_past(np.where(accept, decided, np.nan))
    rejected = np.where(reject, decided, np.nan)
    direct = inbound & ~touched & ~is_mql & (rng.random(n) < 0.1)  # junk cleaned out without a touch
    rejected = np.where(direct, created + rng.uniform(HOUR, 10 * DAY, n), rejected)

    # Accepted leads convert to an opportunity after discovery, or get recycled or rejected later.
    p_convert = _sigmoid(-0.7 + 0.9 * (fit - 1.0) + 0.3 * intent)
    convert = np.isfinite(accepted) & (rng.random(n) < p_convert)
    converted = _only_past(np.where(convert, accepted + HOUR + rng.lognormal(np.log(3 * DAY), 0.8, n), np.nan))
    late_reject = np.isfinite(accepted) & ~convert & (rng.random(n) < 0.4)
    rejected = np.where(late_reject, accepted + rng.uniform(5 * DAY, 45 * DAY, n), rejected)
    rejected = _only_past(rejected)

    # Why: depends on fit and on whether the rep had accepted first; ~5% left empty on purpose.
    reason_idx = np.where(fit < 0.3, _pick(rng, REJECT_W_LOW_FIT, n), _pick(rng, REJECT_W_NORMAL, n))
    reason_idx = np.where(late_reject, _pick(rng, REJECT_W_AFTER_ACCEPT, n), reason_idx)
    reason_idx = np.where(student, STUDENT_REASON, reason_idx)
    reason = _obj(REJECTION_REASONS)[reason_idx]
    reason[~np.isfinite(rejected) | (rng.random(n) < 0.05)] = None

    # Current status.
    age = T1 - np.fmax(np.fmax(touch, mql), accepted)
    aged_unworked = rng.random(n) < 0.2 + 0.6 * (T1 - created) / (T1 - T0)
    status = np.select(
        [
            np.isfinite(converted),
            np.isfinite(rejected),
            np.isfinite(accepted) | touched,
            is_mql,
        ],
        [
            4,
            3,
            np.where(age < 40 * DAY, 1, 2),
            np.where(T1 - mql < 30 * DAY, 0, 2),
        ],
        np.where(aged_unworked, 2, 0),
    )

    # Ownership: SDRs by segment; AEs prospect part of the outbound themselves.
    owner = _pick_owner(rng, users, SDR, firmo["segment"], created)
    ae_outbound = ~inbound & (rng.random(n) < 0.4)
    owner[ae_outbound] = _pick_owner(rng, users, AE, firmo["segment"][ae_outbound], created[ae_outbound])

    # Attribution fields.
    utm_source = np.full(n, None, dtype=object)
    utm_medium = np.full(n, None, dtype=object)
    utm_campaign = np.full(n, None, dtype=object)
    campaign_id = np.full(n, None, dtype=object)
    paid = campaign >= 0
    utm_source[paid] = _obj([c[3] for c in CAMPAIGNS])[campaign[paid]]
    utm_medium[paid] = _obj([c[4] for c in CAMPAIGNS])[campaign[paid]]
    utm_campaign[paid] = _obj([c[5] for c in CAMPAIGNS])[campaign[paid]]
    campaign_id[paid] = _obj([c[1] for c in CAMPAIGNS])[campaign[paid]]
    organic = np.isin(source, [ORGANIC, PLG]) & (rng.random(n) < 0.45)
    utm_source[organic], utm_medium[organic] = "google", "organic"
    webinar = source == WEBINAR
    campaign_id[webinar], utm_campaign[webinar] = _marketing_campaign_ids("webinar", created[webinar])
    utm_source[webinar], utm_medium[webinar] = "hubspot", "email"
    event = source == EVENT
    campaign_id[event], _ = _marketing_campaign_ids("event", created[event])
    partner = (source == PARTNER) & (rng.random(n) < 0.6)
    utm_source[partner], utm_medium[partner], utm_campaign[partner] = "partner", "referral", "partner_program"

    raw_source = _obj(LEAD_SOURCES)[source]
    odd = rng.random(n) < 0.01
    for s, labels in ODD_SOURCE.items():
        rows = np.flatnonzero(odd & (source == s))
        raw_source[rows] = _obj(labels)[rng.integers(0, len(labels), len(rows))]

    workspace = np.full(n, None, dtype=object)
    workspace[plg] = _tokens(rng, int(plg.sum()), "ws_", 12, LOWER_ALNUM)
    return Leads(
        n=n,
        source=source,
        raw_source=raw_source,
        created=created,
        campaign=campaign,
        campaign_id=campaign_id,
        utm=(utm_source, utm_medium, utm_campaign),
        firmo=firmo,
        company=company,
        domain=domain,
        first=first,
        last=last,
        email=_emails(first, last, domain),
        title=_obj([t for t, _, _ in LEAD_TITLES])[title_idx],
        fit=fit,
        intent=intent,
        forced_mql=forced & is_mql,
        fast_mql=fast & is_mql,
        activated=activated,
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


def lead_table(
    rng: np.random.Generator,
    leads: Leads,
    users: Users,
    account_ids: np.ndarray,
    contact_ids: np.ndarray,
    opportunity_ids: np.ndarray,
) -> Table:
    """The lead table; the converted_* ids are passed in (None for leads that did not convert)."""
    n = leads.n
    f = leads.firmo
    converted = np.isfinite(leads.converted)
    first, last = _name_text(leads.first, leads.last)
    stamps = [leads.created, leads.mql, leads.touch, leads.accepted, leads.rejected, leads.converted]
    last_change = np.fmax.reduce(stamps)
    enriched = rng.random(n) < 0.15
    enriched_at = np.minimum(last_change + rng.uniform(0, 90 * DAY, n), T1 - rng.uniform(MINUTE, 12 * HOUR, n))
    last_change = np.where(enriched, np.maximum(enriched_at, last_change), last_change)
    table: Table = {
        "id": _seq_ids("00Q", 100_000 + np.arange(n)),
        SORT_KEY: np.arange(n),
        "first_name": first,
        "last_name": last,
        "name": _join(first, b" ", last),
        "email": leads.email,
        "phone": _null_some(rng, _phones(rng, n), 0.35),
        "title": _null_some(rng, leads.title, 0.08),
        "company": leads.company,
        "industry": _null_some(rng, _obj([i for i, _, _ in INDUSTRIES])[f["industry"]], 0.12),
        "number_of_employees": _null_some(rng, f["employees"], 0.25),
        "annual_revenue": _null_some(rng, f["revenue"], 0.45),
        "country": _null_some(rng, _obj([c for c, _, _ in COUNTRIES])[f["country"]], 0.04),
        "lead_source": leads.raw_source,
        "status": _obj(LEAD_STATUSES)[leads.status],
        "owner_id": users.ids[leads.owner],
        "created_date": leads.created,
        "is_converted": converted,
        "converted_date": np.where(converted, _day_start(leads.converted), np.nan),
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
        "_fivetran_synced": _synced(rng, last_change),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    # Connector mess: merged-away duplicates (soft-deleted), a few hard deletes, stale re-synced copies.
    candidates = np.flatnonzero(~converted)
    deleted = rng.choice(candidates, size=min(len(candidates), round(0.006 * n)), replace=False)
    table["is_deleted"][deleted] = True
    table["status"][deleted] = "Disqualified"
    table["rejection_reason_c"][deleted] = "Duplicate"
    table["rejected_date_c"][deleted] = np.fmax(table["rejected_date_c"][deleted], leads.created[deleted] + DAY)
    table["rejected_date_c"][deleted] = np.minimum(table["rejected_date_c"][deleted], T1 - HOUR)
    table["system_modstamp"][deleted] = np.fmax(table["system_modstamp"][deleted], table["rejected_date_c"][deleted])
    table["_fivetran_synced"][deleted] = _synced(rng, table["system_modstamp"][deleted])
    gone = rng.choice(candidates, size=min(len(candidates), round(0.003 * n)), replace=False)
    table["_fivetran_deleted"][gone] = True
    table, _ = _stale_duplicates(rng, table, 0.007, eligible=table["system_modstamp"] > table["created_date"])
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


# --------------------------------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Accounts:
    """Companies in the CRM: one per converted lead plus prospects targeted by sales."""

    n: int
    ids: np.ndarray
    created: np.ndarray
    name: np.ndarray
    domain: np.ndarray
    firmo: dict[str, np.ndarray]
    source: np.ndarray
    owner: np.ndarray
    lead: np.ndarray  # converting lead, or -1 for prospects
    of_lead: np.ndarray  # per lead: its account, or -1


def gen_accounts(scale: Scale, rng: np.random.Generator, users: Users, leads: Leads) -> Accounts:
    """Accounts created by lead conversion and prospect accounts loaded or created by sales."""
    conv = np.flatnonzero(np.isfinite(leads.converted))
    n_prospects = max(scale.n_accounts - len(conv), 0)
    p_firmo = _firmographics(rng, n_prospects, np.log(250.0))
    p_name, p_domain = _companies(rng, n_prospects)
    p_created = np.where(
        rng.random(n_prospects) < 0.45,
        rng.uniform(PRE_HISTORY, T0, n_prospects),
        _sample_times(rng, n_prospects, 0.5),
    )
    p_source = _obj(["Outbound", "Event", "Partner", None])[_pick(rng, [0.6, 0.15, 0.1, 0.15], n_prospects)]

    created = np.concatenate([leads.converted[conv], p_created])
    order = np.argsort(created, kind="stable")
    created = created[order]
    firmo = {k: np.concatenate([leads.firmo[k][conv], p_firmo[k]])[order] for k in p_firmo}
    lead = np.concatenate([conv, np.full(n_prospects, -1)])[order]
    of_lead = np.full(leads.n, -1, dtype=np.int64)
    of_lead[lead[lead >= 0]] = np.flatnonzero(lead >= 0)
    n = len(created)
    owner = _pick_owner(rng, users, AE, firmo["segment"], created)
    return Accounts(
        n=n,
        ids=_seq_ids("001", 10_000 + np.arange(n)),
        created=created,
        name=np.concatenate([leads.company[conv], p_name])[order],
        domain=np.concatenate([leads.domain[conv], p_domain])[order],
        firmo=firmo,
        source=np.concatenate([leads.raw_source[conv], p_source])[order],
        owner=owner,
        lead=lead,
        of_lead=of_lead,
    )


# --------------------------------------------------------------------------------------------------------------------
# Opportunities: stage paths shared by new business, expansion and renewal deals
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Deals:
    """A batch of opportunities with their full simulated stage path (entries[:, j] = entered stage j, NaN = never;
    column 5 = won). Times after today have not happened yet."""

    kind: np.ndarray
    account: np.ndarray
    created: np.ndarray
    entries: np.ndarray
    reach: np.ndarray  # last open stage reached (0..4) or 5 for won
    close: np.ndarray  # time the deal closes (won or lost), may be after today
    amount_early: np.ndarray
    amount: np.ndarray
    expected: np.ndarray  # expected close when created
    slip_at: np.ndarray
    slipped_to: np.ndarray
    owner: np.ndarray
    lead_source: np.ndarray
    campaign_id: np.ndarray
    loss_weights: np.ndarray  # (n, 7)
    contact: np.ndarray  # primary contact index, filled once contacts exist
    lead: np.ndarray  # converting lead or -1
    subscription: np.ndarray  # the subscription it sold or renewed, or -1


def _paths(
    rng: np.random.Generator, created: np.ndarray, segment: np.ndarray, advance: np.ndarray, speed: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stage entries, furthest stage and close time of deals that move through all stages."""
    n = len(created)
    moves = rng.random((n, 5)) < np.clip(advance, 0.0, 0.98)
    reach = np.cumprod(moves, axis=1).sum(axis=1)
    days = STAGE_DAYS[segment] * speed * rng.lognormal(0.0, 0.6, (n, 5))
    entries = created[:, None] + np.concatenate([np.zeros((n, 1)), np.cumsum(days, axis=1)], axis=1) * DAY
    lost_at = entries[np.arange(n), np.minimum(reach, 4)] + days[np.arange(n), np.minimum(reach, 4)] * DAY * (
        rng.uniform(0.3, 1.2, n)
    )
    close = np.where(reach == 5, entries[:, 5], lost_at)
    entries[np.arange(6)[None, :] > reach[:, None]] = np.nan
    return entries, reach, close


def _slips(
    rng: np.random.Generator, created: np.ndarray, expected: np.ndarray, close: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Close-date pushes: deals running past their expected close usually get the date moved once."""
    n = len(created)
    end = np.minimum(close, T1)
    slip = (end > expected + 3 * DAY) & (rng.random(n) < 0.7)
    slip_at = np.clip(expected - rng.uniform(0, 5 * DAY, n), created + HOUR, end - MINUTE)
    slip_at = np.where(slip & (slip_at > created), slip_at, np.nan)
    target = np.where(
        close <= T1, close + rng.uniform(0, 10 * DAY, n), np.maximum(T1 + rng.uniform(7, 60, n) * DAY, close)
    )
    slipped_to = np.where(np.isfinite(slip_at), np.maximum(target, expected + 14 * DAY), expected)
    return slip_at, slipped_to


def _seat_price(plan: np.ndarray, annual: np.ndarray, t: np.ndarray) -> np.ndarray:
    """List price per seat per year in dollars, as Stripe would bill it at time t."""
    monthly = MONTHLY_CENTS[plan].astype(np.float64)
    monthly = np.where((plan == 1) & (t < PRICE_CHANGE_AT), LEGACY_GROWTH_MONTHLY_CENTS, monthly)
    return np.where(annual, MONTHLY_CENTS[plan] * 10.0, monthly * 12.0) / 100.0


@dataclass
class NewBusiness:
    """New-business deals and what was sold when they were won."""

    deals: Deals
    plan: np.ndarray
    annual: np.ndarray
    seats: np.ndarray
    sales_sourced: np.ndarray


def gen_new_business(rng: np.random.Generator, users: Users, leads: Leads, accounts: Accounts) -> NewBusiness:
    """Opportunities from converted leads plus sales-sourced ones on prospect accounts; simulate their stages."""
    conv = np.flatnonzero(np.isfinite(leads.converted))
    n_conv = len(conv)
    prospects = np.flatnonzero((accounts.lead < 0) & (accounts.created < T1 - 10 * DAY))
    n_ss = min(len(prospects), round(0.18 * n_conv) + 1)
    ss_acc = np.sort(rng.choice(prospects, size=n_ss, replace=False))
    lo = np.maximum(accounts.created[ss_acc], T0)
    ss_created = lo + (T1 - lo) * rng.uniform(0, 1, n_ss) ** 0.8

    account = np.concatenate([accounts.of_lead[conv], ss_acc])
    created = np.concatenate([leads.converted[conv], ss_created])
    sales_sourced = np.arange(len(account)) >= n_conv
    n = len(account)
    segment = accounts.firmo["segment"][account]
    fit = np.concatenate([leads.fit[conv], rng.normal(0.9, 0.5, n_ss)])
    advance = np.tile(STAGE_ADVANCE, (n, 1)) * np.array([1.03, 1.0, 0.95])[segment][:, None]
    advance *= (1.0 + 0.06 * np.clip(fit - 0.9, -2, 2))[:, None]
    advance[sales_sourced, 0] = 0.6
    entries, reach, close = _paths(rng, created, segment, advance)

    # What the customer buys decides the amount: plan by segment, billing interval, seats at list price.
    plan = _pick_rows(rng, PLAN_BY_SEGMENT[segment])
    annual = rng.random(n) < ANNUAL_SHARE[segment]
    target = np.clip(ACV_MEDIAN[segment] * rng.lognormal(0, 0.4, n), ACV_RANGE[segment, 0], ACV_RANGE[segment, 1])
    seat_price = _seat_price(plan, annual, close)
    seats = np.maximum(2, np.round(target / seat_price))
    amount = seats * seat_price
    amount_early = np.round(amount * rng.lognormal(0.05, 0.3, n), -2)

    planned = np.nansum(STAGE_DAYS[segment], axis=1) * rng.uniform(0.55, 0.95, n) * 1.4 * DAY
    expected = created + planned
    slip_at, slipped_to = _slips(rng, created, expected, close)

    owner = accounts.owner[account].copy()
    gone = users.end[owner] <= created
    owner[gone] = _pick_owner(rng, users, AE, segment[gone], created[gone])
    accounts.owner[account] = owner  # the account belongs to whoever works its deal
    lead_source = np.concatenate(
        [leads.raw_source[conv], _obj(["Outbound", "Partner", "Event"])[_pick(rng, [0.7, 0.15, 0.15], n_ss)]]
    )
    late = reach >= 2
    loss_w = np.where(late[:, None], np.array(LOSS_W_LATE), np.array(LOSS_W_EARLY))
    deals = Deals(
        kind=np.full(n, NEW_BUSINESS),
        account=account,
        created=created,
        entries=entries,
        reach=reach,
        close=close,
        amount_early=amount_early,
        amount=amount,
        expected=expected,
        slip_at=slip_at,
        slipped_to=slipped_to,
        owner=owner,
        lead_source=lead_source,
        campaign_id=np.concatenate([leads.campaign_id[conv], np.full(n_ss, None, dtype=object)]),
        loss_weights=loss_w,
        contact=np.full(n, -1),
        lead=np.concatenate([conv, np.full(n_ss, -1)]),
        subscription=np.full(n, -1),
    )
    return NewBusiness(deals, plan, annual, seats, sales_sourced)


# --------------------------------------------------------------------------------------------------------------------
# Billing: prices, customers, subscriptions, seat history
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Billing:
    """Stripe objects plus the deals that billing implies (expansions, renewals)."""

    prices: Table
    customers: Table
    subscriptions: Table
    items: Table
    expansion: Deals
    renewal: Deals
    account_type: np.ndarray  # per account: 0 prospect, 1 customer, 2 former customer
    account_type_changed: np.ndarray
    account_workspace: np.ndarray  # per account: workspace index or -1
    workspaces: np.ndarray  # workspace tokens
    sub: dict[str, np.ndarray]  # per subscription facts for product usage
    versions: dict[str, np.ndarray]


def _simulate_lifetimes(
    rng: np.random.Generator,
    start: np.ndarray,
    annual: np.ndarray,
    segment: np.ndarray,
    self_serve: np.ndarray,
    trial: np.ndarray,
) -> dict[str, np.ndarray]:
    """When each subscription ends: monthly ones churn every month with a small probability (some involuntarily,
    after failed payments), annual ones only at renewal; a share of self-serve trials never convert."""
    n = len(start)
    billing_anchor = np.where(trial, start + 14 * DAY, start)
    p_month = np.where(self_serve, SELF_SERVE_CHURN, MONTHLY_CHURN[segment])
    periods = np.where(annual, 12 * rng.geometric(ANNUAL_CHURN[segment]), rng.geometric(p_month))
    end_period = _add_months(billing_anchor, periods)
    involuntary = ~annual & (rng.random(n) < 0.25)
    trial_drop = trial & (rng.random(n) < 0.35)
    ended = np.where(involuntary, end_period + 21 * DAY, end_period)
    notice = np.where(annual, rng.uniform(5 * DAY, 60 * DAY, n), rng.uniform(1 * DAY, 25 * DAY, n))
    canceled = np.where(involuntary, ended, np.maximum(end_period - notice, billing_anchor + HOUR))
    end_period = np.where(trial_drop, billing_anchor, end_period)
    ended = np.where(trial_drop, billing_anchor, ended)
    canceled = np.where(trial_drop, billing_anchor - rng.uniform(0, 3 * DAY, n), canceled)
    involuntary &= ~trial_drop
    return {
        "billing_anchor": billing_anchor,
        "end_period": end_period,
        "ended": ended,
        "canceled": canceled,
        "involuntary": involuntary,
        "trial_drop": trial_drop,
    }


def _seat_changes(
    rng: np.random.Generator, seats: np.ndarray, segment: np.ndarray, begin: np.ndarray, end: np.ndarray
) -> dict[str, np.ndarray]:
    """Seat expansions and contractions while a subscription is live: one row per change."""
    months = np.maximum(end - begin, 0) / (30.44 * DAY)
    n_up = rng.poisson(EXPANSION_RATE[segment] * months)
    n_down = rng.poisson(CONTRACTION_RATE * months)
    count = np.minimum(n_up + n_down, 12)
    sub, rank = _group_offsets(count)
    t = begin[sub] + rng.uniform(0, 1, len(sub)) * (end - begin)[sub]
    up = rng.random(len(sub)) < (n_up / np.maximum(n_up + n_down, 1))[sub]
    order = np.lexsort((t, sub))
    sub, t, up = sub[order], t[order], up[order]
    quantity = seats.astype(np.float64).copy()
    before = np.empty(len(sub))
    after = np.empty(len(sub))
    for j in range(int(count.max()) if len(count) else 0):
        rows = np.flatnonzero(rank == j)
        s = sub[rows]
        current = quantity[s]
        delta = np.where(
            up[rows],
            np.maximum(1, np.round(current * rng.uniform(0.1, 0.4, len(rows)))),
            -np.maximum(1, np.round(current * rng.uniform(0.05, 0.25, len(rows)))),
        )
        new = np.maximum(1, current + delta)
        before[rows], after[rows] = current, new
        quantity[s] = new
    keep = after != before
    return {"sub": sub[keep], "t": t[keep], "before": before[keep], "after": after[keep]}


def _quantity_at(versions: dict[str, np.ndarray], n_subs: int, sub: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Seats of subscription `sub` at time t, from the item versions (sorted by subscription, start)."""
    count = np.bincount(versions["sub"], minlength=n_subs)
    first = np.cumsum(count) - count
    out = versions["quantity"][first[sub]].copy()
    for j in range(1, int(count.max()) if len(count) else 1):
        has = j < count[sub]
        idx = np.where(has, first[sub] + j, 0)
        hit = has & (versions["start"][idx] <= t)
        out[hit] = versions["quantity"][idx[hit]]
    return out


def _generic_deals(
    rng: np.random.Generator,
    kind: int,
    account: np.ndarray,
    created: np.ndarray,
    segment: np.ndarray,
    reach: np.ndarray,
    close: np.ndarray,
    amount: np.ndarray,
    owner: np.ndarray,
    subscription: np.ndarray,
    loss_weights: Sequence[float],
    skip_demo: bool,
) -> Deals:
    """Deals whose outcome is already known (decided by billing): lay out stage entries between created and close."""
    n = len(created)
    share = rng.dirichlet(np.ones(5), n) if n else np.zeros((0, 5))
    if skip_demo:
        share[:, 2] = 0.0
        share /= share.sum(axis=1, keepdims=True)
    span = np.maximum(close - created, HOUR)
    entries = created[:, None] + np.concatenate([np.zeros((n, 1)), np.cumsum(share, axis=1)], axis=1) * span[:, None]
    lost = reach < 5
    entries[lost] = created[lost, None] + (entries[lost] - created[lost, None]) * 0.98  # lost before the last step
    entries[np.arange(6)[None, :] > reach[:, None]] = np.nan
    if skip_demo:
        entries[:, 2] = np.nan
    expected = np.where(kind == RENEWAL, close, created + span * rng.uniform(0.6, 1.0, n))
    slip_at, slipped_to = _slips(rng, created, expected, close)
    return Deals(
        kind=np.full(n, kind),
        account=account,
        created=created,
        entries=entries,
        reach=reach,
        close=close,
        amount_early=np.round(amount * rng.lognormal(0.0, 0.15, n), -2),
        amount=amount,
        expected=expected,
        slip_at=slip_at,
        slipped_to=slipped_to,
        owner=owner,
        lead_source=np.full(n, None, dtype=object),
        campaign_id=np.full(n, None, dtype=object),
        loss_weights=np.tile(np.asarray(loss_weights), (n, 1)),
        contact=np.full(n, -1),
        lead=np.full(n, -1),
        subscription=subscription,
    )


def gen_billing(
    scale: Scale, rng: np.random.Generator, users: Users, leads: Leads, accounts: Accounts, nb: NewBusiness
) -> Billing:
    """Stripe: one customer per won account (plus self-serve and test customers), subscriptions starting at the close
    date, churn and reactivation, seat history in Fivetran history mode; and the expansion and renewal deals."""
    d = nb.deals
    won = np.flatnonzero((d.reach == 5) & (d.close <= T1))
    won = won[np.argsort(d.close[won], kind="stable")]
    n_crm = len(won)
    n_self = max(2, round(0.05 * n_crm))
    n_test = max(1, round(0.01 * (n_crm + n_self)))

    # Subscriptions of CRM customers start at the close date, a few minutes after the deal is marked won.
    close = d.close[won]
    end_of_day = _day_start(close) + DAY - 1
    crm_start = np.minimum(close + rng.uniform(5 * MINUTE, HOUR, n_crm), np.minimum(end_of_day, T1 - 1))
    self_start = _sample_times(rng, n_self, 1.2)
    self_start = np.maximum(self_start, T0 + 20 * DAY)
    self_start[np.argmax(self_start)] = T1 - rng.uniform(1 * DAY, 12 * DAY)  # a fresh sign-up still in trial
    account = np.concatenate([d.account[won], np.full(n_self, -1)])
    start = np.concatenate([crm_start, self_start])
    segment = np.concatenate([accounts.firmo["segment"][d.account[won]], np.zeros(n_self, dtype=np.int64)])
    plan = np.concatenate([nb.plan[won], np.zeros(n_self, dtype=np.int64)])
    annual = np.concatenate([nb.annual[won], np.zeros(n_self, dtype=bool)])
    seats = np.concatenate([nb.seats[won], rng.integers(1, 9, n_self).astype(np.float64)])
    self_serve = np.arange(len(start)) >= n_crm
    customer = np.arange(len(start))
    deal = np.concatenate([won, np.full(n_self, -1)])
    life = _simulate_lifetimes(rng, start, annual, segment, self_serve, self_serve)

    # Some churned customers come back later with a new (usually monthly) subscription.
    back = (life["ended"] <= T1 - 45 * DAY) & ~life["trial_drop"] & (rng.random(len(start)) < 0.15)
    re_start = life["ended"][back] + rng.uniform(30 * DAY, 240 * DAY, int(back.sum()))
    keep = re_start < T1 - DAY
    parents = np.flatnonzero(back)[keep]
    re_start = re_start[keep]
    k = len(parents)
    re_annual = rng.random(k) < 0.1
    re_life = _simulate_lifetimes(rng, re_start, re_annual, segment[parents], self_serve[parents], np.zeros(k, bool))
    account = np.concatenate([account, account[parents]])
    start = np.concatenate([start, re_start])
    segment = np.concatenate([segment, segment[parents]])
    plan = np.concatenate([plan, plan[parents]])
    annual = np.concatenate([annual, re_annual])
    seats = np.concatenate([seats, np.maximum(1, np.round(seats[parents] * rng.uniform(0.5, 1.0, k)))])
    self_serve = np.concatenate([self_serve, self_serve[parents]])
    customer = np.concatenate([customer, customer[parents]])
    deal = np.concatenate([deal, np.full(k, -1)])
    trial = np.concatenate([self_serve[: n_crm + n_self], np.zeros(k, dtype=bool)])
    life = {key: np.concatenate([life[key], re_life[key]]) for key in life}
    n_subs = len(start)

    # Status as of today.
    ended = life["ended"]
    status = np.select(
        [trial & (start + 14 * DAY > T1), ended <= T1, life["involuntary"] & (life["end_period"] <= T1)],
        ["trialing", "canceled", "past_due"],
        "active",
    ).astype(object)
    flaky = (status == "active") & (rng.random(n_subs) < 0.015)
    status[flaky] = "past_due"
    step = np.where(annual, 12, 1)
    anchor = life["billing_anchor"]
    elapsed = _months_between(anchor, np.full(n_subs, T1))
    k_now = (elapsed // step) * step
    period_start = _add_months(anchor, k_now)
    period_end = _add_months(anchor, k_now + step)
    last_start = _add_months(life["end_period"], -step)
    canceled_done = status == "canceled"
    period_start = np.where(canceled_done, np.where(life["involuntary"], life["end_period"], last_start), period_start)
    period_end = np.where(
        canceled_done,
        np.where(life["involuntary"], _add_months(life["end_period"], step), life["end_period"]),
        period_end,
    )
    in_trial = trial & ((status == "trialing") | life["trial_drop"])
    period_start = np.where(in_trial, start, period_start)
    period_end = np.where(in_trial, start + 14 * DAY, period_end)
    canceled_at = _only_past(life["canceled"])
    ended_at = _only_past(ended)
    cancel_at_period_end = ~life["involuntary"] & ~life["trial_drop"] & np.isfinite(canceled_at)
    live_until = np.minimum(ended, T1)

    # Seat history (subscription items in history mode).
    paid_from = np.where(trial, start + 14 * DAY, start)
    changes = _seat_changes(rng, seats, segment, paid_from, np.where(life["trial_drop"], paid_from, live_until))
    v_sub = np.concatenate([np.arange(n_subs), changes["sub"]])
    v_start = np.concatenate([start, changes["t"]])
    v_qty = np.concatenate([seats, changes["after"]])
    order = np.lexsort((v_start, v_sub))
    versions = {"sub": v_sub[order], "start": v_start[order], "quantity": v_qty[order]}

    # Prices (current list, one legacy price, test-mode prices).
    price_ids = _tokens(rng, 9, "price_", 24)
    product_ids = _tokens(rng, 4, "prod_", 14)
    price_plan = np.array([0, 0, 1, 1, 2, 2, 1, 3, 3])
    price_annual = np.array([False, True, False, True, False, True, False, False, True])
    price_cents = np.array([4_000, 40_000, 8_000, 80_000, 15_000, 150_000, LEGACY_GROWTH_MONTHLY_CENTS, 100, 1_000])
    price_created = np.array([T0 - 40 * DAY] * 6 + [PRE_HISTORY, T0 - 60 * DAY, T0 - 60 * DAY]) + 15 * HOUR
    price_active = np.array([True] * 6 + [False, True, True])
    price_live = np.array([True] * 7 + [False, False])
    price_changed = price_created.copy()
    price_changed[6] = PRICE_CHANGE_AT
    plan_names = [*PLANS, "Test Plan"]
    nicknames = _obj(
        [f"{plan_names[p]} {'Annual' if a else 'Monthly'}" for p, a in zip(price_plan, price_annual, strict=True)]
    )
    nicknames[6] = "Growth Monthly (2024)"
    prices: Table = {
        "id": price_ids,
        "product_id": product_ids[price_plan],
        "nickname": nicknames,
        "currency": _obj(["usd"] * 9),
        "unit_amount": price_cents.astype(np.float64),
        "type": _obj(["recurring"] * 9),
        "recurring_interval": _obj(["year" if a else "month" for a in price_annual]),
        "recurring_interval_count": np.ones(9),
        "active": price_active,
        "created": price_created,
        "livemode": price_live,
        "is_deleted": np.zeros(9, dtype=bool),
        "_fivetran_synced": _synced(rng, price_changed, 0.0),
        "_fivetran_deleted": np.zeros(9, dtype=bool),
    }
    sub_price = plan * 2 + annual
    sub_price = np.where((plan == 1) & ~annual & (start < PRICE_CHANGE_AT), 6, sub_price)

    # Customers: one per paying account, self-serve sign-ups without a CRM link, and a few test-mode customers.
    n_customers = n_crm + n_self
    first_start = start[:n_customers]
    cust_account = account[:n_customers]
    self_name, self_domain = _companies(rng, n_self)
    c_name = np.concatenate([accounts.name[cust_account[:n_crm]], self_name])
    c_domain = np.concatenate([accounts.domain[cust_account[:n_crm]], self_domain])
    delinquent = np.zeros(n_customers, dtype=bool)
    delinquent[customer[status == "past_due"]] = True
    metadata = np.full(n_customers, "{}", dtype=object)
    metadata[:n_crm] = '{"salesforce_account_id": "' + _str(accounts.ids[cust_account[:n_crm]]) + '"}'
    c_created = first_start - rng.uniform(MINUTE, 30 * MINUTE, n_customers)
    c_changed = c_created.copy()
    np.maximum.at(c_changed, customer, np.fmax(np.fmax(start, canceled_at), np.minimum(period_start, T1)))

    t_created = _sample_times(rng, n_test, 1.0)
    c_description = _or_null(self_serve[:n_customers], _obj(["Self-serve sign-up"] * n_customers))
    customers: Table = {
        "id": _tokens(rng, n_customers + n_test, "cus_", 14),
        "name": np.concatenate([c_name, _obj(["Test Customer"] * n_test)]),
        "email": np.concatenate(
            [_join(b"billing@", c_domain), "qa+" + _str(_seq_ids("", np.arange(n_test), 3)) + "@example.com"]
        ),
        "description": np.concatenate([c_description, _obj(["QA test"] * n_test)]),
        "currency": _obj(["usd"] * (n_customers + n_test)),
        "delinquent": np.concatenate([delinquent, np.zeros(n_test, dtype=bool)]),
        "metadata": np.concatenate([metadata, _obj(['{"test": "true"}'] * n_test)]),
        "created": np.concatenate([c_created, t_created]),
        "livemode": np.arange(n_customers + n_test) < n_customers,
        "is_deleted": np.concatenate([np.zeros(n_customers, dtype=bool), rng.random(n_test) < 0.5]),
        "_fivetran_synced": _synced(rng, np.concatenate([c_changed, t_created + DAY])),
        "_fivetran_deleted": np.zeros(n_customers + n_test, dtype=bool),
    }

    # Subscriptions (plus one test-mode subscription per test customer).
    sub_ids = _tokens(rng, n_subs + n_test, "sub_", 24)
    sub_meta = np.full(n_subs, "{}", dtype=object)
    sub_changed = np.fmax.reduce([start, canceled_at, ended_at, np.minimum(period_start, T1)])
    t_status = _obj(["active", "canceled"])[rng.integers(0, 2, n_test)]
    t_ended = np.where(t_status == "canceled", t_created + DAY, np.nan)
    t_period = np.maximum(_add_months(t_created, _months_between(t_created, np.full(n_test, T1))), t_created)
    subscriptions: Table = {
        "id": sub_ids,
        "customer_id": customers["id"][np.concatenate([customer, n_customers + np.arange(n_test)])],
        "status": np.concatenate([status, t_status]),
        "created": np.concatenate([start, t_created]),
        "start_date": np.concatenate([start, t_created]),
        "current_period_start": np.concatenate([period_start, np.where(np.isnan(t_ended), t_period, t_created)]),
        "current_period_end": np.concatenate(
            [period_end, _add_months(np.where(np.isnan(t_ended), t_period, t_created), 1)]
        ),
        "cancel_at_period_end": np.concatenate([cancel_at_period_end, np.zeros(n_test, dtype=bool)]),
        "canceled_at": np.concatenate([canceled_at, t_ended]),
        "ended_at": np.concatenate([ended_at, t_ended]),
        "trial_start": np.concatenate([np.where(trial, start, np.nan), np.full(n_test, np.nan)]),
        "trial_end": np.concatenate([np.where(trial, start + 14 * DAY, np.nan), np.full(n_test, np.nan)]),
        "metadata": np.concatenate([sub_meta, _obj(['{"test": "true"}'] * n_test)]),
        "livemode": np.arange(n_subs + n_test) < n_subs,
        "is_deleted": np.zeros(n_subs + n_test, dtype=bool),
        "_fivetran_synced": _synced(rng, np.concatenate([sub_changed, np.fmax(t_created, t_ended)])),
        "_fivetran_deleted": np.concatenate([np.zeros(n_subs, dtype=bool), rng.random(n_test) < 0.5]),
    }
    # (metadata gets the opportunity id once opportunity ids exist, in _simulate)

    # Subscription items: one item per subscription, one row per version.
    item_ids = _tokens(rng, n_subs + n_test, "si_", 14)
    v = versions
    nxt = np.concatenate([v["start"][1:], [np.nan]])
    is_last = np.concatenate([v["sub"][1:] != v["sub"][:-1], [True]]) if len(v["sub"]) else np.zeros(0, dtype=bool)
    v_end = np.where(is_last, FAR_FUTURE, nxt)
    items: Table = {
        "id": np.concatenate([item_ids[v["sub"]], item_ids[n_subs:]]),
        "subscription_id": np.concatenate([sub_ids[v["sub"]], sub_ids[n_subs:]]),
        "price_id": np.concatenate([price_ids[sub_price[v["sub"]]], price_ids[np.full(n_test, 7)]]),
        "plan_id": np.full(len(v["sub"]) + n_test, None, dtype=object),
        "quantity": np.concatenate([v["quantity"], np.ones(n_test)]),
        "created": np.concatenate([start[v["sub"]], t_created]),
        "metadata": _obj(["{}"] * (len(v["sub"]) + n_test)),
        "_fivetran_start": np.concatenate([v["start"], t_created]),
        "_fivetran_end": np.concatenate([v_end, np.full(n_test, FAR_FUTURE)]),
        "_fivetran_active": np.concatenate([is_last, np.ones(n_test, dtype=bool)]),
        "_fivetran_synced": _synced(rng, np.concatenate([np.where(is_last, v["start"], nxt), t_created]), 0.0),
        "_fivetran_deleted": np.zeros(len(v["sub"]) + n_test, dtype=bool),
    }

    # Expansion deals: CRM customers buying seats through their AE (most SMB expansions are self-serve).
    crm_sub = account >= 0
    ch = changes
    up = (ch["after"] > ch["before"]) & crm_sub[ch["sub"]]
    up &= (segment[ch["sub"]] > 0) | (rng.random(len(ch["sub"])) < 0.3)
    e_sub = ch["sub"][up]
    e_close = ch["t"][up] - rng.uniform(0.5 * DAY, 3 * DAY, len(e_sub))
    e_created = np.maximum(e_close - rng.uniform(10 * DAY, 45 * DAY, len(e_sub)), start[e_sub] + DAY)
    e_close = np.maximum(e_close, e_created + DAY)
    e_amount = (ch["after"] - ch["before"])[up] * _seat_price(plan[e_sub], annual[e_sub], ch["t"][up])
    # ... and expansion attempts that were lost or are still open.
    live_mm = np.flatnonzero(crm_sub & (segment > 0) & (live_until - start > 60 * DAY))
    n_lost = min(len(live_mm), round(0.5 * len(e_sub)) + 1) if len(live_mm) else 0
    l_sub = rng.choice(live_mm, size=n_lost) if n_lost else np.empty(0, dtype=np.int64)
    l_window = np.maximum(live_until[l_sub] - start[l_sub] - 30 * DAY, DAY)
    l_created = start[l_sub] + 30 * DAY + rng.uniform(0, 1, n_lost) * l_window
    l_close = l_created + rng.uniform(15 * DAY, 70 * DAY, n_lost)
    l_amount = np.maximum(1, np.round(seats[l_sub] * rng.uniform(0.1, 0.4, n_lost))) * _seat_price(
        plan[l_sub], annual[l_sub], l_created
    )
    x_sub = np.concatenate([e_sub, l_sub])
    x_reach = np.concatenate([np.full(len(e_sub), 5), rng.integers(1, 5, n_lost)])
    x_acc = account[x_sub]
    expansion = _generic_deals(
        rng,
        EXPANSION,
        x_acc,
        np.concatenate([e_created, l_created]),
        segment[x_sub],
        x_reach,
        np.concatenate([e_close, l_close]),
        np.concatenate([e_amount, l_amount]),
        accounts.owner[x_acc],
        x_sub,
        LOSS_W_LATE,
        skip_demo=False,
    )

    # Renewal deals: annual CRM subscriptions, opened 90 days before each anniversary, owned by Customer Success.
    r_sub, r_at, r_lost = [], [], []
    for year in (1, 2, 3):
        anniversary = _add_months(anchor, 12 * year)
        due = crm_sub & annual & (anniversary - 90 * DAY <= T1) & (ended >= anniversary - HOUR) & ~life["trial_drop"]
        r_sub.append(np.flatnonzero(due))
        r_at.append(anniversary[due])
        r_lost.append(np.abs(ended[due] - anniversary[due]) < HOUR)
    r_sub_a, r_at_a, r_lost_a = _concat(r_sub).astype(np.int64), _concat(r_at), _concat(r_lost).astype(bool)
    r_created = r_at_a - 90 * DAY
    r_close = np.where(
        r_lost_a,
        np.maximum(life["canceled"][r_sub_a] + rng.uniform(0, 3 * DAY, len(r_sub_a)), r_created + 5 * DAY),
        r_at_a - rng.uniform(0, 14 * DAY, len(r_sub_a)),
    )
    r_seats = _quantity_at(versions, n_subs, r_sub_a, r_at_a - 15 * DAY)
    r_amount = r_seats * _seat_price(plan[r_sub_a], annual[r_sub_a], r_at_a)
    r_acc = account[r_sub_a]
    r_owner = _pick_owner(rng, users, CSM, segment[r_sub_a], r_created)
    renewal = _generic_deals(
        rng,
        RENEWAL,
        r_acc,
        r_created,
        segment[r_sub_a],
        np.where(r_lost_a, 4, 5),
        r_close,
        r_amount,
        r_owner,
        r_sub_a,
        LOSS_W_RENEWAL,
        skip_demo=True,
    )

    # Account type and product workspace, consistent with billing.
    live_now = np.isin(status, ["active", "past_due", "trialing"])
    a_type = np.zeros(accounts.n, dtype=np.int64)
    a_changed = accounts.created.copy()
    crm_rows = np.flatnonzero(crm_sub)
    a_type[account[crm_rows]] = np.maximum(a_type[account[crm_rows]], 2)
    a_type[account[crm_rows[live_now[crm_rows]]]] = 1
    np.maximum.at(a_changed, account[crm_rows], np.fmax(start[crm_rows], ended_at[crm_rows]))
    plg_lead = np.where(accounts.lead >= 0, accounts.lead, 0)
    has_plg = (accounts.lead >= 0) & (leads.source[plg_lead] == PLG)
    n_plg = int((leads.source == PLG).sum())
    plg_ws_index = np.cumsum(leads.source == PLG) - 1  # workspace index of each PLG lead
    a_ws = np.where(has_plg, plg_ws_index[plg_lead], -1)
    needs_ws = np.flatnonzero((a_ws < 0) & (a_type > 0))
    a_ws[needs_ws] = n_plg + np.arange(len(needs_ws))
    n_ws = n_plg + len(needs_ws) + n_self
    workspaces = np.empty(n_ws, dtype=object)
    workspaces[:n_plg] = leads.workspace[leads.source == PLG]
    workspaces[n_plg:] = _tokens(rng, n_ws - n_plg, "ws_", 12, LOWER_ALNUM)
    sub_ws = np.where(crm_sub, a_ws[np.maximum(account, 0)], n_plg + len(needs_ws) + customer - n_crm)

    sub_facts = {
        "start": start,
        "paid_from": paid_from,
        "live_until": live_until,
        "ended": ended,
        "seats": seats,
        "workspace": sub_ws,
        "trial": trial,
        "trial_drop": life["trial_drop"],
        "deal": deal,
        "first_of_ws": np.zeros(n_subs, dtype=bool),
    }
    first_sub = np.full(n_ws, n_subs)
    np.minimum.at(first_sub, sub_ws, np.arange(n_subs))
    sub_facts["first_of_ws"][first_sub[first_sub < n_subs]] = True
    return Billing(
        prices=prices,
        customers=customers,
        subscriptions=subscriptions,
        items=items,
        expansion=expansion,
        renewal=renewal,
        account_type=a_type,
        account_type_changed=a_changed,
        account_workspace=a_ws,
        workspaces=workspaces,
        sub=sub_facts,
        versions=versions,
    )


# --------------------------------------------------------------------------------------------------------------------
# Contacts
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Contacts:
    """Contacts and, per account, the primary contact used on deals."""

    table: Table
    ids: np.ndarray
    primary: np.ndarray  # per account


def gen_contacts(
    rng: np.random.Generator, leads: Leads, accounts: Accounts, nb: NewBusiness, billing: Billing
) -> tuple[Contacts, np.ndarray]:
    """One contact per converted lead, one per sales-sourced deal, more at customer accounts after they buy.

    Returns the contacts and, per new-business deal, its contact index.
    """
    d = nb.deals
    conv = d.lead[d.lead >= 0]
    ss = np.flatnonzero(nb.sales_sourced)
    paying = np.flatnonzero(billing.account_type > 0)
    first_buy = np.full(accounts.n, np.inf)
    crm = billing.sub["deal"] >= 0
    np.minimum.at(first_buy, d.account[billing.sub["deal"][crm]], billing.sub["start"][crm])
    extra_n = rng.poisson(np.array([1.0, 2.0, 3.5])[accounts.firmo["segment"][paying]])
    extra_acc = np.repeat(paying, extra_n)
    extra_created = first_buy[extra_acc] + rng.uniform(1 * DAY, 180 * DAY, len(extra_acc))
    keep = extra_created < T1
    extra_acc, extra_created = extra_acc[keep], extra_created[keep]
    n_ss, n_extra = len(ss), len(extra_acc)

    ss_first, ss_last = _names(rng, n_ss + n_extra)
    first_code = np.concatenate([leads.first[conv], ss_first])
    last_code = np.concatenate([leads.last[conv], ss_last])
    first, last = _name_text(first_code, last_code)
    account = np.concatenate([d.account[d.lead >= 0], d.account[ss], extra_acc])
    created = np.concatenate([leads.converted[conv], d.created[ss], extra_created])
    title = np.concatenate(
        [
            leads.title[conv],
            _obj([t for t, _, _ in LEAD_TITLES[:13]])[rng.integers(0, 13, n_ss)],
            _obj(CONTACT_TITLES)[rng.integers(0, len(CONTACT_TITLES), n_extra)],
        ]
    )
    source = np.concatenate([leads.raw_source[conv], d.lead_source[ss], np.full(n_extra, None, dtype=object)])
    phone = np.concatenate(
        [_null_some(rng, _phones(rng, len(conv)), 0.3), _null_some(rng, _phones(rng, n_ss + n_extra), 0.5)]
    )
    order = np.argsort(created, kind="stable")
    n = len(order)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    ids_by_row = _seq_ids("003", 20_000 + rank)
    table: Table = {
        "id": ids_by_row,
        SORT_KEY: rank,
        "account_id": accounts.ids[account],
        "first_name": first,
        "last_name": last,
        "name": _join(first, b" ", last),
        "email": _emails(first_code, last_code, accounts.domain[account]),
        "phone": phone,
        "title": title,
        "lead_source": source,
        "owner_id": np.full(n, None, dtype=object),  # set by finish_contacts once owners are final
        "created_date": created,
        "is_deleted": np.zeros(n, dtype=bool),
        "_fivetran_synced": np.zeros(n),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    table["_account"] = account
    deal_contact = np.full(len(d.created), -1)
    deal_contact[d.lead >= 0] = np.arange(len(conv))
    deal_contact[ss] = len(conv) + np.arange(n_ss)
    primary = np.full(accounts.n, -1)
    primary[account[: len(conv) + n_ss][::-1]] = np.arange(len(conv) + n_ss)[::-1]
    return Contacts(table, ids_by_row, primary), deal_contact


def finish_contacts(rng: np.random.Generator, contacts: Contacts, accounts: Accounts, users: Users) -> Table:
    """Owners, sync times and connector mess of the contact table."""
    t = dict(contacts.table)
    account = t.pop("_account")
    n = len(t["id"])
    t["owner_id"] = users.ids[accounts.owner[account]]
    t["_fivetran_synced"] = _synced(rng, t["created_date"])
    referenced = np.zeros(n, dtype=bool)
    referenced[contacts.primary[contacts.primary >= 0]] = True
    extra = np.flatnonzero(~referenced & (t["lead_source"] == None))  # noqa: E711 - elementwise on object array
    deleted = rng.choice(extra, size=min(len(extra), round(0.005 * n)), replace=False)
    t["is_deleted"][deleted] = True
    t["_fivetran_synced"][deleted] = _synced(rng, np.minimum(t["created_date"][deleted] + 30 * DAY, T1))
    t, _ = _stale_duplicates(rng, t, 0.005)
    return t


# --------------------------------------------------------------------------------------------------------------------
# Opportunities and their history
# --------------------------------------------------------------------------------------------------------------------


def _merge_deals(parts: Sequence[Deals]) -> Deals:
    """One batch of deals from several."""
    fields = Deals.__dataclass_fields__
    return Deals(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in fields})


@dataclass
class Opportunities:
    """All deals in id order, their current state and the history rows."""

    deals: Deals
    ids: np.ndarray
    table: Table
    history: Table
    stage_now: np.ndarray
    order: np.ndarray  # position in id order of each merged deal


def build_opportunities(rng: np.random.Generator, users: Users, accounts: Accounts, deals: Deals) -> Opportunities:
    """Current opportunity rows and one history row per stage change, close-date push or reopen."""
    order = np.argsort(deals.created, kind="stable")
    d = Deals(**{name: getattr(deals, name)[order] for name in Deals.__dataclass_fields__})
    n = len(d.created)
    ids = _seq_ids("006", 30_000 + np.arange(n))
    closed = d.close <= T1
    won = closed & (d.reach == 5)
    lost = closed & (d.reach < 5)

    # Rows: each stage entered so far, the closing row, close-date pushes and a few lost-then-reopened deals.
    e = d.entries.copy()
    e[:, 5] = np.where(won, d.close, np.nan)
    e[~np.isfinite(e) | (e > T1)] = np.nan
    e[:, :5][closed[:, None] & (e[:, :5] >= d.close[:, None])] = np.nan
    opp_i, stage_i = np.nonzero(np.isfinite(e))
    h_opp = [opp_i, np.flatnonzero(lost)]
    h_stage = [stage_i, np.full(int(lost.sum()), LOST)]
    h_time = [e[opp_i, stage_i], d.close[lost]]
    stage_now = np.where(won, WON, np.where(lost, LOST, np.nanargmax(np.where(np.isfinite(e), np.arange(6), -1), 1)))
    slip = np.flatnonzero(np.isfinite(d.slip_at) & (d.slip_at <= T1))
    slip_stage = (np.isfinite(e[slip]) & (e[slip] <= d.slip_at[slip, None])).cumsum(axis=1).argmax(axis=1)
    h_opp.append(slip)
    h_stage.append(slip_stage)
    h_time.append(d.slip_at[slip])
    can_reopen = np.flatnonzero(np.isfinite(e[:, 2]) & ~lost & (d.kind == NEW_BUSINESS))
    reopen = rng.choice(can_reopen, size=min(len(can_reopen), round(0.02 * n)), replace=False)
    gap = e[reopen, 2] - e[reopen, 1]
    h_opp += [reopen, reopen]
    h_stage += [np.full(len(reopen), LOST), np.full(len(reopen), 1)]
    h_time += [e[reopen, 1] + 0.3 * gap, e[reopen, 1] + 0.6 * gap]
    h_opp_a = _concat(h_opp).astype(np.int64)
    h_stage_a = _concat(h_stage).astype(np.int64)
    h_time_a = _concat(h_time)
    h_order = np.lexsort((h_time_a, h_opp_a))
    h_opp_a, h_stage_a, h_time_a = h_opp_a[h_order], h_stage_a[h_order], h_time_a[h_order]

    def amount_at(opp: np.ndarray, stage: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The early estimate until Proposal, the priced amount from then on (and on the final row of late losses)."""
        final = closed[opp] & (np.abs(t - d.close[opp]) < 1)
        later = ((stage >= 3) & (stage <= WON)) | ((stage == LOST) & final & (d.reach[opp] >= 3))
        return np.where(later, d.amount[opp], d.amount_early[opp])

    def close_at(opp: np.ndarray, stage: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The actual close date on the closing row, else the expected close date in force at time t."""
        final = ((stage == WON) | (stage == LOST)) & closed[opp] & (np.abs(t - d.close[opp]) < 1)
        planned = np.where(t >= np.nan_to_num(d.slip_at[opp], nan=np.inf), d.slipped_to[opp], d.expected[opp])
        return _day_start(np.where(final, d.close[opp], planned))

    n_h = len(h_opp_a)
    history: Table = {
        "id": _seq_ids("0066H", 40_000 + np.arange(n_h)),
        "opportunity_id": ids[h_opp_a],
        "stage_name": _obj(STAGES)[h_stage_a],
        "amount": amount_at(h_opp_a, h_stage_a, h_time_a),
        "probability": STAGE_PROBABILITY[h_stage_a],
        "forecast_category": _obj(STAGE_FORECAST)[h_stage_a],
        "close_date": close_at(h_opp_a, h_stage_a, h_time_a),
        "created_date": h_time_a,
        "created_by_id": users.ids[d.owner[h_opp_a]],
        "is_deleted": np.zeros(n_h, dtype=bool),
        "system_modstamp": h_time_a,
        "_fivetran_synced": _synced(rng, h_time_a),
        "_fivetran_deleted": np.zeros(n_h, dtype=bool),
    }
    # History ids follow creation time, like Salesforce's.
    rank = np.argsort(np.argsort(h_time_a, kind="stable"), kind="stable")
    history["id"] = _seq_ids("0066H", 40_000 + rank)
    history[SORT_KEY] = rank

    last_row = np.full(n, -1)
    last_row[h_opp_a] = np.arange(n_h)  # rows are sorted by time within an opportunity
    modstamp = h_time_a[last_row]
    loss = _obj(LOSS_REASONS)[_pick_rows(rng, d.loss_weights)]
    loss[~lost] = None
    account_name = accounts.name[d.account]
    year = np.datetime_as_string(d.close.astype(np.int64).astype("datetime64[s]").astype("datetime64[Y]"))
    name = np.select(
        [d.kind == NEW_BUSINESS, d.kind == EXPANSION],
        [_join(account_name, b" - New Business"), _join(account_name, b" - Expansion")],
        _join(account_name, b" - Renewal ", year.astype("S4")),
    ).astype(object)
    table: Table = {
        "id": ids,
        SORT_KEY: np.arange(n),
        "account_id": accounts.ids[d.account],
        "name": name,
        "type": _obj(OPP_TYPES)[d.kind],
        "stage_name": _obj(STAGES)[stage_now],
        "amount": amount_at(np.arange(n), stage_now, np.where(closed, d.close, T1)),
        "probability": STAGE_PROBABILITY[stage_now],
        "forecast_category": _obj(STAGE_FORECAST)[stage_now],
        "close_date": close_at(np.arange(n), stage_now, np.where(closed, d.close, T1)),
        "created_date": d.created,
        "is_closed": closed,
        "is_won": won,
        "lead_source": d.lead_source,
        "owner_id": users.ids[d.owner],
        "campaign_id": d.campaign_id,
        "loss_reason_c": loss,
        "is_deleted": np.zeros(n, dtype=bool),
        "system_modstamp": modstamp,
        "_fivetran_synced": _synced(rng, modstamp),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    # Connector mess: a couple of deleted junk deals, stale copies carrying the previous stage.
    junk = np.flatnonzero(lost & (d.reach == 0) & (d.lead < 0) & (d.kind == NEW_BUSINESS))
    junk = rng.choice(junk, size=min(len(junk), max(1, round(0.003 * n))), replace=False)
    table["is_deleted"][junk] = True
    has_prev = np.zeros(n, dtype=bool)
    counts = np.bincount(h_opp_a, minlength=n)
    has_prev[counts >= 2] = True
    table, originals = _stale_duplicates(rng, table, 0.01, eligible=has_prev & ~table["is_deleted"])
    prev = last_row[originals] - 1
    stale = slice(n, None)
    table["stage_name"][stale] = history["stage_name"][prev]
    table["amount"][stale] = history["amount"][prev]
    table["probability"][stale] = history["probability"][prev]
    table["forecast_category"][stale] = history["forecast_category"][prev]
    table["close_date"][stale] = history["close_date"][prev]
    table["system_modstamp"][stale] = history["created_date"][prev]
    table["_fivetran_synced"][stale] = np.minimum(
        _synced(rng, history["created_date"][prev], 0.0), table["_fivetran_synced"][originals] - MINUTE
    )
    prev_stage = h_stage_a[prev]
    table["is_closed"][stale] = prev_stage >= WON
    table["is_won"][stale] = prev_stage == WON
    table["loss_reason_c"][stale] = _or_null(prev_stage == LOST, table["loss_reason_c"][stale])
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    return Opportunities(d, ids, table, history, stage_now, position)


# --------------------------------------------------------------------------------------------------------------------
# Activities: tasks and events
# --------------------------------------------------------------------------------------------------------------------


def gen_tasks(
    rng: np.random.Generator,
    users: Users,
    leads: Leads,
    lead_ids: np.ndarray,
    opps: Opportunities,
    contact_ids: np.ndarray,
    accounts: Accounts,
) -> Table:
    """Calls and e-mails: the first touch of a lead, follow-ups and sequences, and deal follow-ups."""
    # Lead touches.
    touched = np.flatnonzero(np.isfinite(leads.touch))
    outbound = leads.source[touched] == OUTBOUND
    n_follow = np.where(outbound, 1 + rng.poisson(0.4, len(touched)), rng.poisson(0.2, len(touched)))
    parent, rank = _group_offsets(n_follow)
    follow_lead = touched[parent]
    gap_days = (rank + rng.uniform(0.3, 1.0, len(parent))) * rng.uniform(1, 4, len(parent))
    follow_t = leads.touch[follow_lead] + gap_days * DAY
    stop = np.fmin(np.fmin(leads.accepted, leads.rejected), leads.converted)[follow_lead]
    ok = (follow_t <= T1) & ~(follow_t > stop)
    l_lead = np.concatenate([touched, follow_lead[ok]])
    l_time = np.concatenate([leads.touch[touched], follow_t[ok]])
    l_email = np.concatenate([rng.random(len(touched)) < np.where(outbound, 0.7, 0.4), rng.random(int(ok.sum())) < 0.6])
    # Deal follow-ups by the deal owner, and one open next step on every open deal.
    d = opps.deals
    end = np.minimum(np.where(d.close <= T1, d.close, T1), T1)
    n_task = rng.poisson(0.15 + 0.2 * np.minimum(d.reach, 4))
    o_parent, _ = _group_offsets(n_task)
    o_time = d.created[o_parent] + rng.uniform(0, 1, len(o_parent)) * (end - d.created)[o_parent]
    open_deal = np.flatnonzero(d.close > T1)
    o_parent = np.concatenate([o_parent, open_deal])
    o_time = np.concatenate([o_time, np.maximum(T1 - rng.uniform(0, 10 * DAY, len(open_deal)), d.created[open_deal])])
    o_open = np.arange(len(o_parent)) >= len(o_parent) - len(open_deal)
    o_email = rng.random(len(o_parent)) < 0.55

    n_l, n_o = len(l_lead), len(o_parent)
    created = np.concatenate([l_time, o_time])
    email = np.concatenate([l_email, o_email])
    is_open = np.concatenate([np.zeros(n_l, dtype=bool), o_open])
    n = n_l + n_o
    subject = np.where(email, _obj(EMAIL_SUBJECTS)[rng.integers(0, 3, n)], _obj(CALL_SUBJECTS)[rng.integers(0, 3, n)])
    note = np.where(
        email,
        _obj(EMAIL_NOTES)[rng.integers(0, len(EMAIL_NOTES), n)],
        _obj(CALL_NOTES)[rng.integers(0, len(CALL_NOTES), n)],
    )
    completed = np.where(is_open, np.nan, created + np.where(email, 0.0, rng.uniform(MINUTE, 10 * MINUTE, n)))
    activity = np.where(is_open, _day_start(T1 + rng.uniform(1, 14, n) * DAY), _day_start(created))
    kind = np.where(email, "Email", "Call").astype(object)
    contact = d.contact[o_parent]
    order = np.argsort(created, kind="stable")
    rank_ = np.empty(n, dtype=np.int64)
    rank_[order] = np.arange(n)
    table: Table = {
        "id": _seq_ids("00T", 50_000 + rank_),
        SORT_KEY: rank_,
        "who_id": np.concatenate([lead_ids[l_lead], _lookup_or_null(contact_ids, contact)]),
        "what_id": np.concatenate([np.full(n_l, None, dtype=object), opps.ids[o_parent]]),
        "account_id": np.concatenate([np.full(n_l, None, dtype=object), accounts.ids[d.account[o_parent]]]),
        "owner_id": users.ids[np.concatenate([leads.owner[l_lead], d.owner[o_parent]])],
        "subject": subject,
        "description": _null_some(rng, note, 0.55),
        "type": kind,
        "task_subtype": kind.copy(),
        "status": np.where(is_open, "Not Started", "Completed").astype(object),
        "activity_date": activity,
        "created_date": created,
        "completed_date_time": completed,
        "is_closed": ~is_open,
        "is_deleted": rng.random(n) < 0.004,
        "_fivetran_synced": _synced(rng, np.fmax(created, completed)),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    table, _ = _stale_duplicates(rng, table, 0.003)
    return table


MEETINGS = {  # (deal kind, stage) -> subject, minutes
    (NEW_BUSINESS, 1): ("Discovery call", 30), (NEW_BUSINESS, 2): ("Product demo", 60),
    (NEW_BUSINESS, 3): ("Proposal review", 45), (EXPANSION, 1): ("Expansion discovery", 30),
    (EXPANSION, 2): ("Feature demo", 45), (RENEWAL, 1): ("Renewal kickoff", 30), (RENEWAL, 3): ("Renewal review", 45),
}  # fmt: skip


def gen_events(
    rng: np.random.Generator, users: Users, opps: Opportunities, contact_ids: np.ndarray, accounts: Accounts
) -> Table:
    """Meetings (discovery, demo, proposal) held when a deal enters those stages; upcoming ones included."""
    d = opps.deals
    parts = []
    for (kind, stage), (title, length) in MEETINGS.items():
        rows = np.flatnonzero((d.kind == kind) & np.isfinite(d.entries[:, stage]))
        if stage == 3 and kind == NEW_BUSINESS:
            rows = rows[accounts.firmo["segment"][d.account[rows]] == 2]
        slot = rng.integers(0, 16, len(rows)) * 30 * MINUTE  # half-hour slots, 14:00-22:00 UTC
        start = _day_start(d.entries[rows, stage]) + 14 * HOUR + slot
        start = np.maximum(start, np.ceil(d.created[rows] / (30 * MINUTE)) * 30 * MINUTE)
        created = np.maximum(start - rng.uniform(1 * DAY, 6 * DAY, len(rows)), d.created[rows])
        keep = (created <= T1) & ~(start > d.close[rows])
        parts.append((rows[keep], start[keep], created[keep], title, length))
    opp = _concat([p[0] for p in parts]).astype(np.int64)
    start = _concat([p[1] for p in parts])
    created = _concat([p[2] for p in parts])
    subject = _concat([_obj([p[3]] * len(p[0])) for p in parts])
    minutes = _concat([np.full(len(p[0]), p[4], dtype=np.float64) for p in parts])
    n = len(opp)
    order = np.argsort(created, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    contact = d.contact[opp]
    notes = _obj(["Agenda: goals, current process, timeline.", "Bring solutions engineer.", None, None, None])
    table: Table = {
        "id": _seq_ids("00U", 60_000 + rank),
        SORT_KEY: rank,
        "who_id": _lookup_or_null(contact_ids, contact),
        "what_id": opps.ids[opp],
        "account_id": accounts.ids[d.account[opp]],
        "owner_id": users.ids[d.owner[opp]],
        "subject": subject,
        "description": notes[rng.integers(0, len(notes), n)],
        "type": _obj(["Meeting"] * n),
        "start_date_time": start,
        "end_date_time": start + minutes * MINUTE,
        "duration_in_minutes": minutes,
        "created_date": created,
        "is_deleted": rng.random(n) < 0.003,
        "_fivetran_synced": _synced(rng, created),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    return table


# --------------------------------------------------------------------------------------------------------------------
# Product usage
# --------------------------------------------------------------------------------------------------------------------


EventColumns = dict[str, np.ndarray]  # product events as numbers: workspace, user, event, timestamp, ...
MONTH_STARTS = (
    np.arange(START.astype("datetime64[M]"), TODAY.astype("datetime64[M]") + 1)
    .astype("datetime64[s]")
    .astype(np.int64)
    .astype(np.float64)
)  # calendar months of the history, and the first instant after it
EVENT_MONTH = 30.44 * DAY  # the usage model's "month" (a subscription's monthly window, not a calendar month)


def _trial_events(rng: np.random.Generator, leads: Leads, billing: Billing) -> EventColumns:
    """Trials of product sign-ups (with activation for a share) and the sign-up of each new paying workspace.

    Its random draws are the first ones of the seeds' product events, in the same order: keep it that way, or the
    committed seeds change."""
    plg = np.flatnonzero(leads.source == PLG)
    n_plg = len(plg)
    signup = leads.created[plg] - rng.uniform(MINUTE, 10 * MINUTE, n_plg)
    act = leads.activated[plg]
    counts = {  # per trial workspace: events of each type during the 14-day trial
        LOGGED_IN: rng.poisson(np.where(act, 2.0, 0.3)),
        PROJECT_CREATED: np.where(act, 1 + rng.poisson(0.5, n_plg), rng.random(n_plg) < 0.2),
        INVITED: np.where(act, rng.poisson(0.8, n_plg), 0),
        INTEGRATION: np.where(act, rng.random(n_plg) < 0.6, 0),
        REPORT_SHARED: np.where(act, rng.poisson(0.5, n_plg), 0),
    }
    ws, user, event, ts = [np.arange(n_plg)] * 2, [np.zeros(n_plg, np.int64)] * 2, [], []
    event += [np.full(n_plg, SIGNED_UP), np.full(n_plg, TRIAL_STARTED)]
    ts += [signup, signup + rng.uniform(20, 300, n_plg)]
    team = 1 + counts[INVITED]
    for kind, count in counts.items():
        parent, _ = _group_offsets(np.asarray(count, dtype=np.int64))
        ws.append(parent)
        user.append(rng.integers(0, team[parent]) if kind != INVITED else np.zeros(len(parent), np.int64))
        event.append(np.full(len(parent), kind))
        ts.append(signup[parent] + rng.uniform(5 * MINUTE, 14 * DAY, len(parent)))

    # The first paid subscription of a workspace that did not come from a product sign-up signs up.
    s = billing.sub
    new_ws = s["first_of_ws"] & (s["workspace"] >= n_plg)
    ws.append(s["workspace"][new_ws])
    user.append(np.zeros(int(new_ws.sum()), np.int64))
    event.append(np.full(int(new_ws.sum()), SIGNED_UP))
    ts.append(s["start"][new_ws] - rng.uniform(MINUTE, HOUR, int(new_ws.sum())))
    self_trial = new_ws & s["trial"]  # self-serve sign-ups start a trial right away
    ws.append(s["workspace"][self_trial])
    user.append(np.zeros(int(self_trial.sum()), np.int64))
    event.append(np.full(int(self_trial.sum()), TRIAL_STARTED))
    ts.append(s["start"][self_trial] + rng.uniform(5, 120, int(self_trial.sum())))
    return {
        "ws": _concat(ws).astype(np.int64),
        "user": _concat(user).astype(np.int64),
        "event": _concat(event).astype(np.int64),
        "timestamp": _concat(ts),
    }


def _usage_windows(scale: Scale, rng: np.random.Generator, billing: Billing) -> dict[str, np.ndarray]:
    """Monthly usage windows of paying workspaces: tracked users and health (usage fades before churn)."""
    s = billing.sub
    live = np.flatnonzero(~s["trial_drop"])
    months = np.ceil((s["live_until"][live] - s["start"][live]) / EVENT_MONTH).astype(np.int64)
    months = np.maximum(months, 0)
    sub_i, month_i = _group_offsets(months)
    sub = live[sub_i]
    m_start = s["start"][sub] + month_i * EVENT_MONTH
    m_end = np.minimum(m_start + EVENT_MONTH, s["live_until"][sub])
    seats = _quantity_at(billing.versions, len(s["start"]), sub, m_start)
    util = rng.uniform(0.5, 1.0, len(s["start"]))[sub]
    tracked = np.maximum(1, np.round(seats * scale.tracked_seat_share * util))
    churned = s["ended"][sub] <= T1
    to_end = (s["ended"][sub] - m_start) / EVENT_MONTH
    health = np.where(churned & (to_end < 3), np.clip(to_end / 3, 0.15, 1.0), 1.0)
    return {"sub": sub, "start": m_start, "end": m_end, "tracked": tracked, "health": health}


def _usage_events(
    scale: Scale, rng: np.random.Generator, billing: Billing, w: dict[str, np.ndarray], lo: np.ndarray, hi: np.ndarray
) -> EventColumns:
    """Usage events of the windows `w` between `lo` and `hi`: a Poisson count per window, then users, types, times."""
    n_ev = rng.poisson(w["tracked"] * scale.events_per_user_month * w["health"] * (hi - lo) / EVENT_MONTH)
    parent, _ = _group_offsets(n_ev)
    return {
        "ws": billing.sub["workspace"][w["sub"][parent]].astype(np.int64),
        "user": rng.integers(0, w["tracked"][parent].astype(np.int64)),
        "event": _pick(rng, USAGE_W, len(parent)),
        "timestamp": lo[parent] + rng.uniform(0, 1, len(parent)) * (hi - lo)[parent],
    }


def _deliveries(rng: np.random.Generator, ev: EventColumns) -> EventColumns:
    """Receipt: seconds after the event, days for a few; events not received by today are not there yet; a few
    deliveries are retried (the same event id arrives twice). Adds received_at and the id's parts and sort key."""
    n = len(ev["timestamp"])
    received = ev["timestamp"] + rng.uniform(0.3, 8.0, n)
    late = rng.random(n) < 0.005
    received[late] += rng.uniform(1 * DAY, 4 * DAY, int(late.sum()))
    keep = received <= T1
    out = {col: values[keep] for col, values in ev.items()}
    out["received_at"] = received[keep]
    n = len(out["received_at"])
    out["millis"] = np.floor(out["timestamp"] * 1_000).astype(np.int64)
    out["noise"] = rng.integers(0, 62**4, n)
    out[SORT_KEY] = (out["millis"] - int(T0) * 1_000) * 62**4 + out["noise"]  # exact in int64, the id's text order
    dup = np.flatnonzero(rng.random(n) < 0.002)
    for col in out:
        out[col] = np.concatenate([out[col], out[col][dup]])
    out["received_at"][n:] = np.minimum(out["received_at"][n:] + rng.uniform(1, 120, len(dup)), T1)
    return out


def gen_product_events(scale: Scale, rng: np.random.Generator, leads: Leads, billing: Billing) -> Table:
    """Trials of product sign-ups (with activation for a share) and paying workspaces' usage, fading before churn,
    all drawn from one generator (the committed seeds; `EventPlan` draws big scales month by month)."""
    trial = _trial_events(rng, leads, billing)
    w = _usage_windows(scale, rng, billing)
    usage = _usage_events(scale, rng, billing, w, w["start"], w["end"])
    ev = _deliveries(rng, {col: np.concatenate([trial[col], usage[col]]) for col in trial})
    return {
        "id": _base62_ids("evt_", [(ev["millis"], 7), (ev["noise"], 4)]),  # time-ordered, like ULIDs
        SORT_KEY: ev[SORT_KEY],
        "event": _obj(PRODUCT_EVENTS)[ev["event"]],
        "user_id": _seq_ids("usr_", ev["ws"] * 1_000 + np.minimum(ev["user"], 999), 14),
        "account_id": billing.workspaces[ev["ws"]],
        "timestamp": ev["timestamp"],
        "received_at": ev["received_at"],
    }


def _month_of(t: np.ndarray) -> np.ndarray:
    """Calendar month of the history (0 = November 2024) of each timestamp, clipped to the history."""
    return np.clip(np.searchsorted(MONTH_STARTS, t, side="right") - 1, 0, len(MONTH_STARTS) - 2)


@dataclass
class EventPlan:
    """Product events of a big scale, drawn one calendar month at a time so memory stays bounded.

    The usage windows (a subscription's 30.44-day months) are cut at calendar-month boundaries; a Poisson count per
    piece adds up to the same distribution as one count per window, so the dynamics are the seeds' ones. Each month
    has its own generator spawned from the scale's seed: the output does not depend on how it is consumed."""

    scale: Scale
    billing: Billing
    trial: EventColumns  # sorted by calendar month
    trial_bounds: np.ndarray  # trial[trial_bounds[m]:trial_bounds[m + 1]] happen in month m
    pieces: dict[str, np.ndarray]  # usage windows cut at month boundaries, sorted by month
    piece_bounds: np.ndarray
    rngs: list[np.random.Generator]
    workspaces: pa.Array

    @property
    def n_months(self) -> int:
        return len(self.rngs)

    @property
    def expected_rows(self) -> int:
        p = self.pieces
        mean = p["tracked"] * self.scale.events_per_user_month * p["health"] * (p["hi"] - p["lo"]) / EVENT_MONTH
        return int(len(self.trial["timestamp"]) + mean.sum())

    def month(self, m: int) -> EventColumns:
        """The events that happened in calendar month m (a few are received in the next month)."""
        rng = self.rngs[m]
        p = {col: values[self.piece_bounds[m] : self.piece_bounds[m + 1]] for col, values in self.pieces.items()}
        usage = _usage_events(self.scale, rng, self.billing, p, p["lo"], p["hi"])
        trial = {col: values[self.trial_bounds[m] : self.trial_bounds[m + 1]] for col, values in self.trial.items()}
        return _deliveries(rng, {col: np.concatenate([trial[col], usage[col]]) for col in trial})

    def all(self) -> EventColumns:
        """Every month at once (for CSV and in-memory use; the Parquet writer goes month by month)."""
        months = [self.month(m) for m in range(self.n_months)]
        return {col: np.concatenate([part[col] for part in months]) for col in months[0]}


def plan_product_events(scale: Scale, rng: np.random.Generator, leads: Leads, billing: Billing) -> EventPlan:
    """Draw what is small (trials, usage windows) up front; leave the many usage events to `EventPlan.month`."""
    trial = _trial_events(rng, leads, billing)
    w = _usage_windows(scale, rng, billing)
    first = _month_of(w["start"])
    last = len(MONTH_STARTS) - 2
    bounds = MONTH_STARTS.copy()
    bounds[0], bounds[-1] = -np.inf, np.inf  # the first and last months take whatever lies beyond the history
    cuts = []  # a 30.44-day window overlaps at most three calendar months (January 31 -> March 2)
    for k in range(3):
        month = np.minimum(first + k, last)
        lo = np.maximum(w["start"], bounds[month])
        hi = np.minimum(w["end"], bounds[month + 1])
        keep = (first + k <= last) & (hi > lo)
        cuts.append((np.flatnonzero(keep), lo[keep], hi[keep], month[keep]))
    window = np.concatenate([c[0] for c in cuts])
    month_of_piece = np.concatenate([c[3] for c in cuts])
    order = np.argsort(month_of_piece, kind="stable")
    pieces = {col: w[col][window][order] for col in ("sub", "tracked", "health")}
    pieces["lo"] = np.concatenate([c[1] for c in cuts])[order]
    pieces["hi"] = np.concatenate([c[2] for c in cuts])[order]
    n_months = len(MONTH_STARTS) - 1
    trial_month = _month_of(trial["timestamp"])
    trial_order = np.argsort(trial_month, kind="stable")
    return EventPlan(
        scale=scale,
        billing=billing,
        trial={col: values[trial_order] for col, values in trial.items()},
        trial_bounds=np.searchsorted(trial_month[trial_order], np.arange(n_months + 1)),
        pieces=pieces,
        piece_bounds=np.searchsorted(month_of_piece[order], np.arange(n_months + 1)),
        rngs=rng.spawn(n_months),
        workspaces=pa.array(billing.workspaces, type=pa.string()),
    )


def event_arrow(ev: EventColumns, workspaces: pa.Array, order: np.ndarray | None = None) -> pa.Table:
    """Product events as the output table, built as Arrow arrays without Python strings (ids from byte matrices,
    names from the vocabulary, times from `_calendar_text`), rows in `order` (default: primary-key order)."""
    if order is None:
        order = np.lexsort((ev["received_at"], ev[SORT_KEY]))
    ws = ev["ws"][order]
    columns = {
        "id": _fixed_width_text(_base62_matrix("evt_", [(ev["millis"][order], 7), (ev["noise"][order], 4)])),
        "event": pc.take(pa.array(PRODUCT_EVENTS), pa.array(ev["event"][order])),
        "user_id": _fixed_width_text(_digits_matrix("usr_", ws * 1_000 + np.minimum(ev["user"][order], 999), 14)),
        "account_id": pc.take(workspaces, pa.array(ws)),
        "timestamp": _calendar_text(ev["timestamp"][order], TS),
        "received_at": _calendar_text(ev["received_at"][order], TS),
    }
    return pa.table([columns[name] for name, _ in COLUMNS[("product", "events")]], names=list(columns))


# --------------------------------------------------------------------------------------------------------------------
# Marketing engagements
# --------------------------------------------------------------------------------------------------------------------


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
    parent, _ = _group_offsets(count)
    is_strong = strong[parent]
    o_type = np.where(is_strong, _pick(rng, ENGAGEMENT_W_MQL, len(parent)), _pick(rng, ENGAGEMENT_W_OTHER, len(parent)))
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
    campaign[web], _ = _marketing_campaign_ids("webinar", occurred[web])
    page = np.empty(m, dtype=object)
    for k, paths in PAGES.items():
        rows = np.flatnonzero(kind == k)
        page[rows] = SITE + _obj(paths)[rng.integers(0, len(paths), len(rows))]
    signup = first_touch & (src[lead] == PLG)
    page[signup] = SITE + "/signup"

    order = np.argsort(occurred, kind="stable")
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    return {
        "id": _seq_ids("eng_", rank + 1, 16),
        SORT_KEY: rank,
        "activity_type": _obj(ENGAGEMENT_TYPES)[kind],
        "occurred_at": occurred,
        "email": leads.email[lead],
        "lead_id": _or_null(rng.random(m) >= 0.02, lead_ids[lead]),
        "campaign_id": campaign,
        "utm_source": utm_s,
        "utm_medium": utm_m,
        "utm_campaign": utm_c,
        "page_url": page,
        "_fivetran_synced": _synced(rng, occurred + rng.uniform(5 * MINUTE, 90 * MINUTE, m)),
    }


# --------------------------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------------------------


def account_table(
    rng: np.random.Generator, accounts: Accounts, users: Users, billing: Billing, has_deal: np.ndarray
) -> Table:
    """The account table: firmographics, type and workspace consistent with billing, plus a little mess."""
    n = accounts.n
    f = accounts.firmo
    ws = billing.account_workspace
    changed = np.minimum(billing.account_type_changed, T1)
    table: Table = {
        "id": accounts.ids,
        SORT_KEY: np.arange(n),
        "name": accounts.name,
        "type": _obj(["Prospect", "Customer", "Former Customer"])[billing.account_type],
        "industry": _null_some(rng, _obj([i for i, _, _ in INDUSTRIES])[f["industry"]], 0.05),
        "number_of_employees": _null_some(rng, f["employees"], 0.05),
        "annual_revenue": _null_some(rng, f["revenue"], 0.1),
        "billing_country": _null_some(rng, _obj([c for c, _, _ in COUNTRIES])[f["country"]], 0.02),
        "account_source": accounts.source,
        "owner_id": users.ids[accounts.owner],
        "product_workspace_id_c": _lookup_or_null(billing.workspaces, ws),
        "created_date": accounts.created,
        "is_deleted": np.zeros(n, dtype=bool),
        "_fivetran_synced": _synced(rng, np.maximum(changed, np.maximum(accounts.created, T0 - DAY))),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    junk = np.flatnonzero((accounts.lead < 0) & ~has_deal)
    deleted = rng.choice(junk, size=min(len(junk), round(0.003 * n)), replace=False)
    table["is_deleted"][deleted] = True
    table, _ = _stale_duplicates(rng, table, 0.005)
    stale = slice(n, None)  # the stale copies of former customers still say Customer
    table["type"][stale] = np.where(table["type"][stale] == "Former Customer", "Customer", table["type"][stale])
    return table


# --------------------------------------------------------------------------------------------------------------------
# Edge cases: the rare records where the shared definitions are decided at their edges. They are drawn from a
# random stream of their own and applied to the finished tables, so the rest of the data (and the story it tells)
# stays what it was; each edge touches a few per cent of its rows at most.
# --------------------------------------------------------------------------------------------------------------------

ICP_INDUSTRIES = [name for name, _, fit in INDUSTRIES if fit]
ICP_EMPLOYEES = (50, 5_000)  # definitions.yml icp.min_employees .. icp.max_employees
MARKETING_SOURCES = ["Organic Search", "Event", "Referral", "Webinar", "Partner"]  # inbound, no ad campaign
SHARED_OPPORTUNITY_SHARE = 0.03  # of converted ICP leads: a colleague is converted into the same opportunity
RECYCLED_SHARE = 0.03  # of rejected MQLs: accepted again later
REASSIGNED_SHARE = 0.03  # of won new-business deals: owner changed after the win
WIN_WITHOUT_USER_SHARE = 0.02  # of won new-business deals: the win was written by an integration, without a user
MID_TERM_CANCEL_SHARE = 0.05  # of live annual subscriptions in their first 9 months of term: cancelled mid-term
PRE_LAUNCH_DAYS = 5  # Brand Search ran this many days before the CRM went live: spend with no lead to allocate it to


def _like(column: np.ndarray, values: Sequence[object] | np.ndarray) -> np.ndarray:
    """`values` in the representation of `column` (fixed-width bytes stay bytes, objects stay objects)."""
    values = np.asarray(values)
    if column.dtype.kind == "S":
        return values.astype(bytes) if values.dtype.kind == "U" else values
    if column.dtype == object:
        return values.astype(object)
    return values.astype(column.dtype)


def _append_rows(table: Table, template: np.ndarray, overrides: dict[str, Sequence[object] | np.ndarray]) -> Table:
    """The table plus copies of its rows `template`, with the columns in `overrides` replaced."""
    out: Table = {}
    for name, column in table.items():
        added = _like(column, overrides[name]) if name in overrides else column[template]
        out[name] = np.concatenate([column, added])
    return out


def _share(rng: np.random.Generator, pool: np.ndarray, share: float, minimum: int = 1) -> np.ndarray:
    """A sorted random sample of `pool`: `share` of it, at least `minimum` rows when the pool has them."""
    k = min(len(pool), max(minimum, round(share * len(pool))))
    return np.sort(rng.choice(pool, size=k, replace=False)) if k else np.empty(0, dtype=np.int64)


def _is_in(values: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Element-wise membership of an object column of text (None never matches)."""
    return pd.Series(values, dtype=object).isin(labels).to_numpy()


def _fit_only(table: Table, rows: np.ndarray) -> np.ndarray:
    """Rows whose recorded firmographics alone make an ICP fit of 40: an ICP industry and an ICP company size."""
    employees = np.asarray(table["number_of_employees"][rows], dtype=np.float64)
    icp_size = (employees >= ICP_EMPLOYEES[0]) & (employees <= ICP_EMPLOYEES[1])
    return icp_size & _is_in(table["industry"][rows], ICP_INDUSTRIES)


def _new_people(rng: np.random.Generator, domains: np.ndarray) -> dict[str, np.ndarray]:
    """Names, e-mail addresses and phone numbers of new people at the given e-mail domains."""
    first_code, last_code = _names(rng, len(domains))
    first, last = _name_text(first_code, last_code)
    return {
        "first_name": first,
        "last_name": last,
        "name": _join(first, b" ", last),
        "email": _emails(first_code, last_code, domains),
        "phone": _phones(rng, len(domains)),
    }


def _original_leads(table: Table, n_leads: int) -> np.ndarray:
    """Positions of the leads' current rows (not the stale re-synced copies), live in the CRM."""
    rows = np.arange(n_leads)
    return rows[~table["is_deleted"][rows] & ~table["_fivetran_deleted"][rows]]


def _shared_opportunity_leads(rng: np.random.Generator, table: Table, n_leads: int, next_id: int) -> Table:
    """Colleagues of converted ICP leads, created on the day of that conversion and converted the same day into the
    same account, contact and opportunity, with no acceptance date recorded (a rep converting a lead records none).
    Their fit alone reaches the MQL threshold and they have no engagement: an MQL at creation, accepted by the
    conversion on the MQL's day, and several leads converted into one opportunity."""
    rows = _original_leads(table, n_leads)
    rows = rows[table["is_converted"][rows] & np.isfinite(table["converted_date"][rows])]
    rows = rows[_is_in(table["lead_source"][rows], MARKETING_SOURCES) & _fit_only(table, rows)]
    template = _share(rng, rows, SHARED_OPPORTUNITY_SHARE)
    k = len(template)
    day = table["converted_date"][template]
    created = np.minimum(day + rng.uniform(7 * HOUR, 15 * HOUR, k), T1 - HOUR)
    domains = np.array([bytes(email).split(b"@")[-1] for email in table["email"][template]], dtype=bytes)
    changed = created + rng.uniform(HOUR, 8 * HOUR, k)
    changed = np.minimum(np.maximum(changed, day + 16 * HOUR), day + DAY - MINUTE)
    overrides: dict[str, Sequence[object] | np.ndarray] = {
        "id": _seq_ids("00Q", next_id + np.arange(k)),
        SORT_KEY: next_id + np.arange(k),
        **_new_people(rng, domains),
        "status": ["Converted"] * k,
        "created_date": created,
        "mql_date_c": created + rng.uniform(2 * MINUTE, 15 * MINUTE, k),
        "accepted_date_c": np.full(k, np.nan),
        "rejected_date_c": np.full(k, np.nan),
        "rejection_reason_c": [None] * k,
        "system_modstamp": changed,
        "_fivetran_synced": _synced(rng, changed, 0.0),
    }
    return _append_rows(table, template, overrides)


def _month_end_leads(rng: np.random.Generator, table: Table, n_leads: int, next_id: int) -> Table:
    """Two new ICP leads at every month boundary of the history: one created at about 23:30 UTC on the last day of
    the month, one at about 00:30 UTC on the first day of the next. Their month depends on the reporting time zone,
    and their fit alone reaches the MQL threshold (they have no engagement); nobody has worked them yet."""
    months = np.arange(START.astype("datetime64[M]") + 1, TODAY.astype("datetime64[M]") + 1)
    boundary = months.astype("datetime64[s]").astype(np.int64).astype(np.float64)
    offset = rng.uniform(25 * MINUTE, 35 * MINUTE, (2, len(boundary)))
    created = np.sort(np.concatenate([boundary - offset[0], boundary + offset[1]]))
    created = created[created < T1]
    k = len(created)
    rows = _original_leads(table, n_leads)
    rows = rows[~table["is_converted"][rows] & _is_in(table["lead_source"][rows], MARKETING_SOURCES)]
    rows = rows[pd.isna(table["utm_campaign_c"][rows]) & pd.isna(table["product_workspace_id_c"][rows])]
    if len(rows) == 0:
        return table
    template = rng.choice(rows, size=k)
    company, domains = _companies(rng, k)
    employees = np.round(np.exp(rng.uniform(np.log(ICP_EMPLOYEES[0]), np.log(ICP_EMPLOYEES[1]), k)))
    nothing = np.full(k, np.nan)
    overrides: dict[str, Sequence[object] | np.ndarray] = {
        "id": _seq_ids("00Q", next_id + np.arange(k)),
        SORT_KEY: next_id + np.arange(k),
        **_new_people(rng, domains),
        "company": company,
        "industry": np.array(ICP_INDUSTRIES, dtype=object)[rng.integers(0, len(ICP_INDUSTRIES), k)],
        "number_of_employees": employees,
        "annual_revenue": np.round(employees * np.exp(rng.normal(np.log(150_000.0), 0.5, k)), -3),
        "status": ["Open - Not Contacted"] * k,
        "is_converted": np.zeros(k, dtype=bool),
        "converted_date": nothing,
        "converted_account_id": [None] * k,
        "converted_contact_id": [None] * k,
        "converted_opportunity_id": [None] * k,
        "created_date": created,
        "mql_date_c": nothing,
        "accepted_date_c": nothing,
        "rejected_date_c": nothing,
        "rejection_reason_c": [None] * k,
        "system_modstamp": created,
        "_fivetran_synced": _synced(rng, created, 0.0),
    }
    return _append_rows(table, template, overrides)


def _recycle_rejected_leads(rng: np.random.Generator, table: Table, n_leads: int) -> None:
    """A few rejected MQLs are accepted again weeks later (recycled); the rejection stays on the record."""
    rows = _original_leads(table, n_leads)
    rejected = table["rejected_date_c"][rows]
    rows = rows[
        np.isfinite(rejected)
        & (rejected < T1 - 60 * DAY)
        & np.isfinite(table["mql_date_c"][rows])
        & np.isnan(table["accepted_date_c"][rows])
        & ~table["is_converted"][rows]
    ]
    rows = _share(rng, rows, RECYCLED_SHARE)
    accepted = table["rejected_date_c"][rows] + rng.uniform(14 * DAY, 60 * DAY, len(rows))
    table["accepted_date_c"][rows] = accepted
    table["status"][rows] = "Working - Contacted"
    table["system_modstamp"][rows] = np.maximum(table["system_modstamp"][rows], accepted)
    table["_fivetran_synced"][rows] = np.maximum(table["_fivetran_synced"][rows], _synced(rng, accepted, 0.0))


def _won_new_business(opportunities: Table, n_opportunities: int) -> np.ndarray:
    """Positions of the current rows of won new-business opportunities."""
    rows = np.arange(n_opportunities)
    won = opportunities["is_won"][rows] & ~opportunities["is_deleted"][rows]
    return rows[won & (opportunities["type"][rows] == OPP_TYPES[NEW_BUSINESS])]


def _reassign_won_deals(rng: np.random.Generator, opportunities: Table, users: Users, n_opportunities: int) -> None:
    """A few won deals change owner weeks after the win (the account moves to another rep): the stage history still
    names the rep who won them, the opportunity names the new owner."""
    won = _won_new_business(opportunities, n_opportunities)
    won = won[opportunities["system_modstamp"][won] < T1 - 30 * DAY]
    rows = _share(rng, won, REASSIGNED_SHARE)
    by_id = np.argsort(users.ids)
    owner = by_id[np.searchsorted(users.ids, opportunities["owner_id"][rows], sorter=by_id)]
    moved = np.minimum(opportunities["system_modstamp"][rows] + rng.uniform(14 * DAY, 120 * DAY, len(rows)), T1 - DAY)
    new_owner = _pick_owner(rng, users, AE, users.division[owner], moved)
    changed = new_owner != owner
    rows, new_owner, moved = rows[changed], new_owner[changed], moved[changed]
    opportunities["owner_id"][rows] = users.ids[new_owner]
    opportunities["system_modstamp"][rows] = moved
    opportunities["_fivetran_synced"][rows] = _synced(rng, moved, 0.0)


def _wins_without_a_user(rng: np.random.Generator, opportunities: Table, history: Table, n_opportunities: int) -> None:
    """A few wins were written by an integration (a signed quote closing the deal), so the stage-history row of the
    win names no user: who closed the deal falls back to its owner."""
    rows = _share(rng, _won_new_business(opportunities, n_opportunities), WIN_WITHOUT_USER_SHARE)
    win_rows = np.isin(history["opportunity_id"], opportunities["id"][rows])
    win_rows &= history["stage_name"] == STAGES[WON]
    history["created_by_id"] = history["created_by_id"].astype(object)
    history["created_by_id"][win_rows] = None


def _cancel_annual_plans_mid_term(rng: np.random.Generator, subscriptions: Table, items: Table, n_subs: int) -> None:
    """A few annual subscriptions are cancelled and end months before their term ends (a customer that goes out of
    business, a refund negotiated by sales). The term has no renewal deal yet: it started less than 9 months ago."""
    rows = np.arange(n_subs)
    term = subscriptions["current_period_end"][rows] - subscriptions["current_period_start"][rows]
    rows = rows[
        (subscriptions["status"][rows] == "active")
        & subscriptions["livemode"][rows]
        & (term > 300 * DAY)
        & (subscriptions["current_period_start"][rows] >= _add_months(np.array([T1]), -9)[0])
        & (subscriptions["current_period_start"][rows] <= T1 - 60 * DAY)
    ]
    rows = _share(rng, rows, MID_TERM_CANCEL_SHARE, minimum=2)
    period_start = subscriptions["current_period_start"][rows]
    ended = period_start + 30 * DAY + rng.uniform(0, 1, len(rows)) * (T1 - 7 * DAY - period_start - 30 * DAY)
    subscriptions["status"][rows] = "canceled"
    subscriptions["canceled_at"][rows] = ended
    subscriptions["ended_at"][rows] = ended
    subscriptions["cancel_at_period_end"][rows] = False
    subscriptions["_fivetran_synced"][rows] = _synced(rng, ended, 0.0)
    # The seat history stops at the cancellation: later versions never happened, the one in force stays current.
    order = np.argsort(subscriptions["id"][rows])
    cancelled_ids, cancelled_at = subscriptions["id"][rows][order], ended[order]
    position = np.minimum(np.searchsorted(cancelled_ids, items["subscription_id"]), max(len(rows) - 1, 0))
    hit = cancelled_ids[position] == items["subscription_id"] if len(rows) else np.zeros(len(items["id"]), bool)
    end_of = np.where(hit, cancelled_at[position] if len(rows) else np.inf, np.inf)
    keep = items["_fivetran_start"] <= end_of
    for name in items:
        items[name] = items[name][keep]
    item_ends = np.isfinite(end_of[keep])
    last = np.concatenate([items["id"][1:] != items["id"][:-1], [True]]) if len(items["id"]) else item_ends
    items["_fivetran_end"][item_ends & last] = FAR_FUTURE
    items["_fivetran_active"][item_ends & last] = True


def _pre_launch_spend(rng: np.random.Generator, ad_spend: Table) -> Table:
    """Brand Search ran for a few days before the CRM went live: ad spend in a month in which no lead (so no MQL of
    its channel) exists, which no segment can be allocated."""
    campaign = 0
    template = np.flatnonzero(ad_spend["campaign_id"] == CAMPAIGNS[campaign][1])[:PRE_LAUNCH_DAYS]
    k = len(template)
    date = T0 - DAY * np.arange(k, 0, -1)
    spend = np.round(ad_spend["spend"][template] * rng.uniform(0.6, 0.9, k), 2)
    scale_down = spend / ad_spend["spend"][template]
    overrides: dict[str, Sequence[object] | np.ndarray] = {
        "date": date,
        SORT_KEY: -np.arange(k, 0, -1) * len(CAMPAIGNS) + campaign,
        "spend": spend,
        "impressions": np.maximum(np.round(ad_spend["impressions"][template] * scale_down), 1),
        "clicks": np.round(ad_spend["clicks"][template] * scale_down),
        "_fivetran_synced": date + DAY + rng.uniform(0.5 * HOUR, 2.5 * HOUR, k),
    }
    return _append_rows(ad_spend, template, overrides)


def add_edge_cases(
    rng: np.random.Generator,
    tables: dict[TableKey, Table],
    users: Users,
    counts: tuple[int, int, int],
) -> None:
    """Apply every edge case to the finished tables: see the section comment above. `counts` are the numbers of
    leads, opportunities and subscriptions before their stale re-synced copies (the rows an edge may change)."""
    n_leads, n_opportunities, n_subs = counts
    lead_key, opp_key, sub_key = ("salesforce", "lead"), ("salesforce", "opportunity"), ("stripe", "subscription")
    leads = tables[lead_key]
    _recycle_rejected_leads(rng, leads, n_leads)
    added = len(leads["id"])
    leads = _shared_opportunity_leads(rng, leads, n_leads, 100_000 + n_leads)
    next_id = 100_000 + n_leads + len(leads["id"]) - added
    tables[lead_key] = _month_end_leads(rng, leads, n_leads, next_id)
    _reassign_won_deals(rng, tables[opp_key], users, n_opportunities)
    _wins_without_a_user(rng, tables[opp_key], tables[("salesforce", "opportunity_history")], n_opportunities)
    _cancel_annual_plans_mid_term(rng, tables[sub_key], tables[("stripe", "subscription_item")], n_subs)
    tables[("marketing", "ad_spend")] = _pre_launch_spend(rng, tables[("marketing", "ad_spend")])


def _simulate(
    scale: Scale, seed: int, on_plan: Callable[[EventPlan], None] | None = None
) -> tuple[dict[TableKey, Table], EventPlan | None]:
    """Run the whole simulation; returns every table as columns of numpy arrays, except the product events of a
    `monthly_events` scale, which come as a plan to draw month by month. `on_plan` gets that plan as soon as billing
    is simulated, so a writer can start on the events while the rest of the simulation runs."""
    root = np.random.default_rng(seed)
    r = root.spawn(17)  # r[16]: the edge cases, so they leave every other draw as it was
    users = gen_users(scale, r[0])
    ads = gen_ad_spend(scale, r[1])
    leads = gen_leads(scale, r[2], users, ads)
    accounts = gen_accounts(scale, r[3], users, leads)
    nb = gen_new_business(r[4], users, leads, accounts)
    billing = gen_billing(scale, r[5], users, leads, accounts, nb)
    plan = plan_product_events(scale, r[14], leads, billing) if scale.monthly_events else None
    if plan is not None and on_plan is not None:
        on_plan(plan)
    contacts, nb_contact = gen_contacts(r[6], leads, accounts, nb, billing)
    nb.deals.contact = nb_contact
    for deals in (billing.expansion, billing.renewal):
        deals.contact = contacts.primary[deals.account]
    opps = build_opportunities(r[7], users, accounts, _merge_deals([nb.deals, billing.expansion, billing.renewal]))

    lead_ids = _seq_ids("00Q", 100_000 + np.arange(leads.n))
    conv = np.flatnonzero(np.isfinite(leads.converted))
    conv_account = np.full(leads.n, None, dtype=object)
    conv_contact = np.full(leads.n, None, dtype=object)
    conv_opp = np.full(leads.n, None, dtype=object)
    nb_pos = opps.order[: len(nb.deals.created)]
    lead_deal = np.flatnonzero(nb.deals.lead >= 0)
    conv_account[conv] = accounts.ids[accounts.of_lead[conv]]
    conv_contact[nb.deals.lead[lead_deal]] = contacts.ids[nb_contact[lead_deal]]
    conv_opp[nb.deals.lead[lead_deal]] = opps.ids[nb_pos[lead_deal]]

    subs = billing.subscriptions
    s = billing.sub
    with_deal = np.flatnonzero(s["deal"] >= 0)
    subs["metadata"][with_deal] = (
        '{"salesforce_opportunity_id": "' + _str(opps.ids[nb_pos[s["deal"][with_deal]]]) + '"}'
    )
    subs, _ = _stale_duplicates(r[8], subs, 0.01, eligible=np.isfinite(subs["canceled_at"]) & subs["livemode"])
    n_live = len(billing.subscriptions["id"])
    stale = slice(n_live, None)
    subs["status"][stale] = "active"
    before_cancel = subs["canceled_at"][stale] - r[8].uniform(1, 20, len(subs["status"][stale])) * DAY
    subs["_fivetran_synced"][stale] = np.maximum(before_cancel, subs["created"][stale])
    subs["canceled_at"][stale] = np.nan
    subs["ended_at"][stale] = np.nan
    subs["cancel_at_period_end"][stale] = False
    customers, _ = _stale_duplicates(r[8], billing.customers, 0.005)

    has_deal = np.zeros(accounts.n, dtype=bool)
    has_deal[opps.deals.account] = True
    tables: dict[TableKey, Table] = {
        ("salesforce", "user"): users.table,
        ("salesforce", "account"): account_table(r[9], accounts, users, billing, has_deal),
        ("salesforce", "lead"): lead_table(r[10], leads, users, conv_account, conv_contact, conv_opp),
        ("salesforce", "contact"): finish_contacts(r[11], contacts, accounts, users),
        ("salesforce", "opportunity"): opps.table,
        ("salesforce", "opportunity_history"): opps.history,
        ("salesforce", "task"): gen_tasks(r[12], users, leads, lead_ids, opps, contacts.ids, accounts),
        ("salesforce", "event"): gen_events(r[13], users, opps, contacts.ids, accounts),
        ("stripe", "customer"): customers,
        ("stripe", "price"): billing.prices,
        ("stripe", "subscription"): subs,
        ("stripe", "subscription_item"): billing.items,
        ("marketing", "engagements"): gen_engagements(scale, r[15], leads, lead_ids),
        ("marketing", "ad_spend"): ads.table,
    }
    add_edge_cases(r[16], tables, users, (leads.n, len(opps.ids), n_live))
    if plan is not None:
        return tables, plan
    tables[EVENTS] = gen_product_events(scale, r[14], leads, billing)
    return tables, None


def to_arrow(key: TableKey, table: Table) -> pa.Table:
    """Format a table to its output representation and sort it by primary key (stale copies first).

    Timestamps, dates and booleans become text ('YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD', 'true'/'false', as connector
    CSV fixtures have them); numbers stay numeric; nulls stay null (written as empty strings in CSV).
    """
    spec = COLUMNS[key]
    names = [name for name, _ in spec]
    sort_key = table.get(SORT_KEY)
    if set(names) != set(table) - {SORT_KEY}:
        raise ValueError(f"{key}: columns {sorted((set(table) - {SORT_KEY}) ^ set(names))} do not match the contract")
    keys = PRIMARY_KEYS.get(key, ["id"]) + (["_fivetran_synced"] if "_fivetran_synced" in names else [])
    if sort_key is None:  # small tables with random ids: let Arrow sort the text
        out = pa.table([_arrow_column(table[name], kind) for name, kind in spec], names=names)
        return out.sort_by([(k, "ascending") for k in keys])
    # Large tables carry a numeric key in primary-key order: sort in numpy before building Arrow arrays.
    tiebreak = table["_fivetran_synced"] if "_fivetran_synced" in table else table.get("received_at")
    order = np.lexsort((tiebreak, sort_key)) if tiebreak is not None else np.argsort(sort_key, kind="stable")
    # Numbers, times and fixed-width ids are reordered in numpy before they become text (a gather of 8 or 15 bytes);
    # object columns are converted first and reordered with Arrow's take (fancy-indexing them costs a refcount each).
    take = pa.array(order)
    columns = []
    for name, kind in spec:
        values = np.asarray(table[name])
        columns.append(
            _arrow_column(values, kind).take(take) if values.dtype == object else _arrow_column(values[order], kind)
        )
    return pa.table(columns, names=names)


def _arrow_column(values: np.ndarray, kind: str) -> pa.Array:
    """One output column as an Arrow array."""
    if kind in (TS, DATE):
        return _calendar_text(values, kind)
    if kind == BOOL:
        return pc.cast(pa.array(np.asarray(values, dtype=bool)), pa.string())
    if kind in (INT, FLOAT):
        v = np.asarray(values, dtype=np.float64)
        null = np.isnan(v)
        if kind == INT:
            return pa.array(np.where(null, 0, v).astype(np.int64), mask=null)
        return pa.array(np.round(np.where(null, 0.0, v), 2), mask=null)
    if values.dtype.kind == "S":
        return _bytes_text(values)
    return pa.array(values, type=pa.string(), from_pandas=True)


def _bytes_text(values: np.ndarray) -> pa.Array:
    """Fixed-width numpy bytes as an Arrow string array: numpy pads short values with NUL bytes, Arrow must not."""
    width = values.dtype.itemsize
    lengths = np.strings.str_len(values)
    if len(values) == 0 or (lengths == width).all():
        return _fixed_width_text(values)
    matrix = np.ascontiguousarray(values).view(np.uint8).reshape(len(values), width)
    data = matrix[np.arange(width) < lengths[:, None]]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return pc.cast(
        pa.Array.from_buffers(pa.large_string(), len(values), [None, pa.py_buffer(offsets), pa.py_buffer(data)]),
        pa.string(),
    )


def generate_tables(scale: Scale, seed: int) -> dict[TableKey, pa.Table]:
    """Generate every raw table as sorted Arrow tables, in the contract's order (product events all in memory)."""
    tables, plan = _simulate(scale, seed)
    out = {key: to_arrow(key, table) for key, table in tables.items()}
    if plan is not None:
        out[EVENTS] = event_arrow(plan.all(), plan.workspaces)
    return {key: out[key] for key in COLUMNS}


def generate(scale: Scale, seed: int) -> dict[TableKey, pd.DataFrame]:
    """Generate every raw table for one scale and seed, as pandas DataFrames."""
    return {key: table.to_pandas() for key, table in generate_tables(scale, seed).items()}


def _csv_text(column: pa.Array) -> pa.Array:
    """A column as CSV field text: floats with two decimals, strings quoted only when they must be (RFC 4180)."""
    if pa.types.is_floating(column.type):
        cents = pc.cast(pc.round(pc.multiply(column, 100.0)), pa.int64())
        magnitude = pc.abs(cents)
        whole = pc.cast(pc.divide(magnitude, 100), pa.string())
        remainder = pc.subtract(magnitude, pc.multiply(pc.divide(magnitude, 100), 100))
        fraction = pc.utf8_lpad(pc.cast(remainder, pa.string()), 2, "0")
        text = pc.binary_join_element_wise(whole, fraction, ".")
        return pc.if_else(pc.less(cents, 0), pc.binary_join_element_wise("-", text, ""), text)
    if not pa.types.is_string(column.type):
        return pc.cast(column, pa.string())
    needs = pc.match_substring_regex(column, r'[",\r\n]')
    if not pc.any(needs).as_py():
        return column
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, column)


def write_csv(table: pa.Table, path: Path, chunk_rows: int = 1_000_000) -> None:
    """Write CSV with a header, minimal quoting, empty fields for nulls and '\\n' line ends, in bounded chunks."""
    with path.open("wb") as handle:
        handle.write((",".join(table.column_names) + "\n").encode())
        for offset in range(0, table.num_rows, chunk_rows):
            part = table.slice(offset, chunk_rows).combine_chunks()
            fields = [_csv_text(part.column(i).chunk(0)) for i in range(part.num_columns)]
            line = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
            lines = pc.binary_join_element_wise(line, "", "\n")
            if isinstance(lines, pa.ChunkedArray):
                lines = lines.combine_chunks()
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
            handle.write(memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])])


PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd"}
EVENT_PARQUET_OPTIONS: dict[str, Any] = {  # unique ids, users and times: dictionary pages only cost time there; the
    "compression": "zstd",  # file is the day, so min/max statistics add nothing a reader could skip on
    "use_dictionary": ["event", "account_id"],
    "write_statistics": False,
}


def _clear(path: Path) -> None:
    """Remove a file or a folder, if there."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _event_days(received: np.ndarray, timestamp: np.ndarray) -> np.ndarray:
    """UTC day number of each event's receipt (of the event itself where received_at is null): its daily file."""
    return np.floor(np.where(np.isnan(received), timestamp, received) / DAY).astype(np.int64)


def _day_name(day: int) -> str:
    """File name of a day's events."""
    return f"{np.datetime64(day, 'D')}.parquet"


def _write_days(table: pa.Table, days: np.ndarray, folder: Path) -> list[Path]:
    """Write rows already sorted by (day, primary key) as one `<YYYY-MM-DD>.parquet` per day."""
    if not len(days):
        return []
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    ends = np.r_[starts[1:], len(days)]
    paths = []
    for start, end in zip(starts, ends, strict=True):
        path = folder / _day_name(int(days[start]))
        pq.write_table(table.slice(int(start), int(end - start)), path, **EVENT_PARQUET_OPTIONS)
        paths.append(path)
    return paths


def write_event_days(table: pa.Table, folder: Path) -> list[Path]:
    """Product events (sorted by primary key) as a folder with one Parquet file per receipt day, as event-tracking
    exports land; rows inside each file stay in primary-key order. The raw loader reads the folder as one table."""
    _clear(folder)
    folder.mkdir(parents=True)
    day_text = pc.coalesce(
        pc.utf8_slice_codeunits(table.column("received_at"), 0, 10),
        pc.utf8_slice_codeunits(table.column("timestamp"), 0, 10),
    )
    days = pc.cast(pc.cast(day_text, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.argsort(days, kind="stable")
    return _write_days(table.take(pa.array(order)), days[order], folder)


def write_planned_event_days(plan: EventPlan, folder: Path, on_rows: Callable[[int], None] | None = None) -> int:
    """Draw and write the product events of a plan one month at a time: the files `write_event_days` would write
    for `event_arrow(plan.all(), ...)`, holding one month (plus the late receipts it passes on) in memory."""
    _clear(folder)
    folder.mkdir(parents=True)
    carry: EventColumns | None = None
    rows = 0
    for m in range(plan.n_months):
        ev = plan.month(m)
        if carry is not None:
            ev = {col: np.concatenate([carry[col], ev[col]]) for col in ev}
        days = _event_days(ev["received_at"], ev["timestamp"])
        order = np.lexsort((ev["received_at"], ev[SORT_KEY], days))
        # Later months' events are never received before their month starts: every earlier day is complete.
        complete = days[order] < (MONTH_STARTS[m + 1] // DAY if m + 1 < plan.n_months else np.inf)
        done, later = order[complete], order[~complete]
        carry = {col: values[later] for col, values in ev.items()}
        _write_days(event_arrow(ev, plan.workspaces, done), days[done], folder)
        rows += len(done)
        if on_rows is not None:
            on_rows(len(done))
    return rows


def write_tables(
    tables: dict[TableKey, pa.Table] | dict[TableKey, pd.DataFrame], out: Path, fmt: str = "csv"
) -> list[Path]:
    """Write `<out>/<source>/<table>.csv` (or `.parquet`; product events as Parquet: `<out>/product/events/` with a
    file per day); returns the written paths."""
    paths = []
    for (source, name), table in tables.items():
        if isinstance(table, pd.DataFrame):
            table = pa.Table.from_pandas(table, preserve_index=False)
        folder = out / source
        folder.mkdir(parents=True, exist_ok=True)
        _remove_other_forms(folder, (source, name), fmt)
        if (source, name) == EVENTS and fmt == "parquet":
            paths += write_event_days(table, folder / name)
            continue
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            write_csv(table, path)
        else:
            pq.write_table(table, path, **PARQUET_OPTIONS)
        paths.append(path)
    return paths


def _remove_other_forms(folder: Path, key: TableKey, fmt: str) -> None:
    """The raw loader takes `<table>.parquet`, then `.csv`, then a `<table>/` folder: never leave another form of
    the table behind."""
    name = key[1]
    daily = key == EVENTS and fmt == "parquet"
    for other in (folder / f"{name}.csv", folder / f"{name}.parquet", folder / name):
        if other != (folder / name if daily else folder / f"{name}.{fmt}"):
            _clear(other)


class _Progress:
    """A progress bar in rows written: tqdm when it is installed, else a plain counter on stderr. Thread-safe."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.total, self.done, self.enabled, self.bar = total, 0, enabled, None
        self.lock = threading.Lock()
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="rows", unit_scale=True, desc="writing", file=sys.stderr)
            except ImportError:
                self.bar = None

    def update(self, rows: int, label: str) -> None:
        with self.lock:
            self.done += rows
            if self.bar is not None:
                self.bar.set_postfix_str(label, refresh=False)
                self.bar.update(rows)
            elif self.enabled:
                print(f"\r{self.done:,} / {self.total:,} rows ({label})", end="", file=sys.stderr, flush=True)

    def grow(self, rows: int) -> None:
        """Add rows to the expected total (known only once the simulation has run)."""
        with self.lock:
            self.total += rows
            if self.bar is not None:
                self.bar.total = self.total
                self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)


def generate_and_write(
    scale: Scale, seed: int, out: Path, fmt: str = "csv", progress: bool = True, workers: int = 1
) -> tuple[dict[TableKey, int], list[Path]]:
    """Simulate, then format and write each table as soon as it is ready (in `workers` threads, largest first).

    Writes the same files as `write_tables(generate_tables(...))`, holding fewer formatted tables in memory at once.
    Product events of a `monthly_events` scale written as Parquet are drawn and written month by month in a thread
    of their own, started as soon as billing is simulated: that work is numpy on numbers and Arrow, which release
    the GIL, so it runs beside the rest of the simulation and the formatting of the other tables (which hold the
    GIL: more `workers` help little there, see benchmarks/results.md).
    Returns rows per table and the written paths.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    if progress:
        print(f"simulating {scale.name} (seed {seed}) ...", file=sys.stderr, flush=True)
    monthly = scale.monthly_events and fmt == "parquet"
    bar = _Progress(0, enabled=progress)
    pool = ThreadPoolExecutor(max_workers=max(1, workers) + monthly)
    planned: list[Future[int]] = []

    def monthly_events(plan: EventPlan) -> int:
        folder = out / EVENTS[0]
        folder.mkdir(parents=True, exist_ok=True)
        _remove_other_forms(folder, EVENTS, fmt)
        return write_planned_event_days(plan, folder / EVENTS[1], lambda rows: bar.update(rows, "product.events"))

    def start_events(plan: EventPlan) -> None:
        bar.grow(plan.expected_rows)
        planned.append(pool.submit(monthly_events, plan))

    paths: list[Path] = []
    try:
        tables, plan = _simulate(scale, seed, on_plan=start_events if monthly else None)
        arrow_events: pa.Table | None = None
        if plan is not None and not monthly:  # one CSV file sorted by primary key: all events at once
            events = plan.all()
            tables[EVENTS] = {name: events[name] for name in ("timestamp", "received_at", SORT_KEY)}
            arrow_events = event_arrow(events, plan.workspaces)
            del events
        sizes = {key: len(next(iter(table.values()))) for key, table in tables.items()}
        bar.grow(sum(sizes.values()))

        def one(key: TableKey) -> tuple[TableKey, list[Path]]:
            table = tables.pop(key)
            arrow = arrow_events if key == EVENTS and arrow_events is not None else to_arrow(key, table)
            return key, write_tables({key: arrow}, out, fmt)

        for key, written in pool.map(one, sorted(sizes, key=lambda k: -sizes[k])):
            paths += written
            bar.update(sizes[key], f"{key[0]}.{key[1]}")
        for future in planned:
            sizes[EVENTS] = future.result()
            paths += sorted((out / EVENTS[0] / EVENTS[1]).glob("*.parquet"))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    order = list(COLUMNS)  # report in the contract's order, whatever order the threads finished in
    return dict(sorted(sizes.items(), key=lambda item: order.index(item[0]) if item[0] in order else 0)), paths


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: generate one scale and write it."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.generator", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small", help="data set size (default: small)")
    parser.add_argument("--out", type=Path, default=Path("seeds"), help="output folder (default: seeds)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv", help="file format (default: csv)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--workers", type=int, default=1, help="threads formatting and writing tables (default: 1)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    counts, paths = generate_and_write(
        SCALES[args.scale], args.seed, args.out, args.format, progress=not args.no_progress, workers=args.workers
    )
    done = time.perf_counter()
    rows = sum(counts.values())
    for (source, table), count in counts.items():
        print(f"{source}.{table}: {count:,} rows")
    size = sum(p.stat().st_size for p in paths)
    rate = rows / max(done - began, 1e-9)
    print(f"{rows:,} rows, {size / 1e6:.1f} MB in {args.out} ({done - began:.1f}s, {rate:,.0f} rows/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
