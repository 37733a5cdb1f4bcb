"""Deterministic, seeded demo data for Flywheel's raw sources.

Writes every table declared in `models/sources.yml` (Salesforce, Stripe, product events, marketing) in the shape the
managed connectors land them, for a fictional B2B SaaS company over two years of history (2024-11-01 through
2026-10-31). The data is generated, not sampled: one funnel simulation (leads -> MQL -> accepted -> converted ->
opportunity -> won -> subscription -> seat changes -> churn or renewal) drives all tables, so the downstream funnel,
speed-to-lead, MRR, churn and CAC models see coherent numbers. A few per cent of records then meet the shared
definitions at their edges (`lead_edge_cases`, `add_edge_cases`: fit-only MQLs, conversions without an acceptance
date, several leads converted into one opportunity, recycled leads, reassigned deals, mid-term cancellations of
annual plans, spend with no lead to allocate it to, leads created on either side of midnight at every month end),
drawn from a random stream of their own so that every other record stays as the simulation made it.

Everything is vectorised with numpy and derived from one seed, the "today" anchor is a constant, rows are sorted by
primary key and floats have fixed formatting, so two runs with the same seed write byte-identical files. As Parquet,
product events are a folder `product/events/` with one file per receipt day (`<YYYY-MM-DD>.parquet`), the way
event-tracking exports land; at `tiny`, `medium` and `large` they are drawn month by month (`EventPlan`) so memory
stays bounded. Every other table is handed to a writer as soon as it is final and formatted and written a block
of rows at a time (`simulation.TableSink`, `formatting.arrow_blocks`), so `large` (10M leads, 149M rows) peaks at
about 10 GB instead of holding every table at once. Strings are built as fixed-width bytes or straight as Arrow
arrays, not as Python str objects.

The modules follow the simulation: `calendar` (the fixed history, scales), `vocabularies`, `text`, `sampling` and
`connector` (shared helpers), then one module per part of the funnel (`users`, `ad_spend`, `leads`, `accounts`,
`deals`, `subscriptions`, `stripe_tables`, `billing_deals`, `billing`, `contacts`, `opportunities`, `activities`,
`product`, `engagements`, `edge_cases`); `simulation` runs them in order and names each table, `contract` reads the
columns of every table from `models/sources.yml`, `formatting` and `writing` write the files, `cli` is the command.

    python -m flywheel_demo --scale small --out seeds --seed 42
    python -m flywheel_demo --scale medium --out /tmp/flywheel-raw --format parquet
"""
