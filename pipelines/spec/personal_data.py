"""What personal data looks like: e-mail- and phone-shaped text, personal column names, and masking for reports.

One definition serves the raw load (free-text columns are redacted when a value looks personal), the run-time check
on every mart (`no_personal_data`) and the tests, so they cannot disagree. The predicates are SQL for DuckDB, whose
RE2 regular expressions read these patterns the same way Python's `re` does.

What is not a phone number: CRM and billing record ids (15 or 18 characters, digits only or mixed with letters;
Stripe's `cus_...`), ISO dates and times (`2026-01-05 10:00:00+02:00`) and amounts (`1234567.89`). A phone number
is written either with a leading `+` and a country code (`+1-971-555-0152`, `+44 20 7946 0958`, `+15551234567`), or
North-American style with separators (`555-010-1234`, `(555) 010-1234`), and holds 7 to 15 digits.
"""

from __future__ import annotations

import re

EMAIL_LIKE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
# Group 2 is the number itself; group 1 and 3 keep it from being a piece of a longer token (an id, a timestamp).
PHONE_LIKE = (
    r"(^|[^0-9A-Za-z+])"
    r"(\+[0-9]{1,3}[\s.-]?(\(?[0-9]{1,4}\)?[\s.-]?){1,4}[0-9]{2,4}"
    r"|(\([0-9]{3}\)[\s.-]?|[0-9]{3}[\s.-])[0-9]{3}[\s.-][0-9]{4})"
    r"($|[^0-9A-Za-z])"
)
PHONE_DIGITS = (7, 15)
# What a raw load writes over a personal-looking free-text value when the caller gives no label; the assets pass
# `personal_data.redacted_label` of the definitions.
DEFAULT_REDACTED_LABEL = "(redacted)"
# Column names that hold a person's identity or contact; marts carry CRM and billing ids only.
PERSONAL_COLUMN = re.compile(
    r"^(name|(.+_)?(email|e_mail|email_address|phone|phone_number|mobile|first_name|last_name|full_name|"
    r"user_name|person_name|description))$"
)


def email_like_sql(expression: str) -> str:
    """SQL: true when the text `expression` contains something shaped like an e-mail address."""
    return f"coalesce(regexp_matches({expression}, '{EMAIL_LIKE}'), false)"


def phone_like_sql(expression: str) -> str:
    """SQL: true when the text `expression` contains something shaped like a phone number (7 to 15 digits)."""
    low, high = PHONE_DIGITS
    number = f"regexp_extract({expression}, '{PHONE_LIKE}', 2)"
    return (
        f"coalesce(regexp_matches({expression}, '{PHONE_LIKE}') "
        f"and length(regexp_replace({number}, '[^0-9]', '', 'g')) between {low} and {high}, false)"
    )


def personal_value_sql(expression: str) -> str:
    """SQL: true when the text `expression` looks like it holds an e-mail address or a phone number."""
    return f"({email_like_sql(expression)} or {phone_like_sql(expression)})"


def is_personal_column(name: str) -> bool:
    """Whether a column's name says it holds a person's identity or contact (email, phone, first_name, name...)."""
    return bool(PERSONAL_COLUMN.match(name.lower()))


def mask(value: str) -> str:
    """A value with its letters and digits hidden but the first and the last two, for check metadata and logs.

    `jane.doe@example.com` -> `j***.***@*******.*om`; punctuation stays, so the shape of what leaked is visible.
    """
    positions = [index for index, character in enumerate(value) if character.isalnum()]
    shown = set(positions[:1] + positions[-2:]) if len(positions) > 4 else set()
    return "".join(
        character if not character.isalnum() or index in shown else "*" for index, character in enumerate(value)
    )
