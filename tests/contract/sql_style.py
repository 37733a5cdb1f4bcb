"""House SQL style (STYLE.md), shared by the contract tests of model files and of check files."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.tokens import Tokenizer, TokenType

from pipelines.spec.models import DIALECT


def sql_style_problems(file_text: str, queries: list[str]) -> list[str]:
    """Tabs or trailing spaces in the file; in its queries, keywords not lowercase and one-letter aliases."""
    problems = []
    for number, line in enumerate(file_text.splitlines(), start=1):
        if "\t" in line or line != line.rstrip():
            problems.append(f"line {number}: tab or trailing whitespace")
    for query in queries:
        for token in Tokenizer(dialect=DIALECT).tokenize(query):
            is_keyword = token.text.isalpha() and token.token_type not in (TokenType.VAR, TokenType.STRING)
            if is_keyword and token.text != token.text.lower():
                problems.append(f"line {token.line}: keyword {token.text} is not lowercase")
        for alias in sqlglot.parse_one(query, dialect=DIALECT).find_all(exp.TableAlias):
            if len(alias.name) == 1:
                problems.append(f"one-letter alias {alias.name}: qualify with the full table name")
    return problems
