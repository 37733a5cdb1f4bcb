"""Vocabularies and rates of the simulated company: names, industries, sources, stages, plans, campaigns."""

from __future__ import annotations

import numpy as np


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

NURTURE_CAMPAIGN_ID = "7015e0000003001"
