"""Small-cell suppression for tables released together: no person can be singled out, and no
hidden count can be worked out from what is shown.

Tables are counts of one *measure* (referrals sent, complaints received…) broken down by one or two
*dimensions* (month, service, urgency…), each with its totals. Tables of the same measure released
together share their totals: the total for "service X" in a service-by-month table is the same number
as the "service X" cell of a table by service alone, and every table of a measure has the same grand
total. A reader may combine all of them.

The rules, in order:

1. **Primary suppression.** A count below the threshold (default 5) is shown as "<5" — zero
   included: were zeros shown, a "<5" would be known to be at least 1, and a table of ones could
   be worked out from its totals alone.
2. **Complementary suppression.** A hidden count must not be recoverable from the rest. Each sum a
   reader knows (a row, a column, a total across tables) is an equation; a hidden count is
   recoverable when the equations, with what the reader knows of the hidden counts (a "<5" is
   between 0 and 4, any other hidden count is 0 or at least 5), leave it a single value. Until none
   is (a hidden zero may come out as zero: "nobody" singles out no one),
   the smallest shown count of an equation through the exposed count is hidden too. Three checks,
   in two steps:

   - no equation holds exactly one hidden count (it would be its total minus the rest);
   - for every hidden count, a *twin* is found: another table, differing from the true one by -1,
     0 or +1 in each hidden count, with the same sums and every hidden count within what the reader
     knows of it. Two tables the reader cannot tell apart disagree on that count, so it cannot be
     worked out. (A row of two "<5" summing to 8 has no twin: they are two fours. Nor does a "<5"
     beside a hidden count summing to 6: they are 1 and 5.) Where no twin is found, more is hidden.

A table released after this carries, per cell, its value or why it is hidden, and a note saying so.
This module is pure: plain data in, plain data out, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

DEFAULT_THRESHOLD = 5
TOTAL = "__total__"

HIDDEN_MARK = "\u2013"  # an en dash: hidden, not small (a small count reads "<5")

PRIMARY = "primary"  # below the threshold
COMPLEMENTARY = "complementary"  # hidden so that a small one cannot be worked out


@dataclass(frozen=True)
class Table:
    """Counts of ``measure`` by ``rows`` (and ``columns``, for a two-way table).

    ``cells`` maps (row,) or (row, column) to a count; a missing cell is zero. The totals are worked
    out here, never taken from the caller, so they always add up.
    """

    measure: str
    row_dimension: str
    rows: Sequence[str]
    cells: Mapping[tuple, int]
    column_dimension: str | None = None
    columns: Sequence[str] = ()

    def count(self, row, column=None) -> int:
        key = (row,) if self.column_dimension is None else (row, column)
        return int(self.cells.get(key, 0))


# A count's identity across the tables released together: the measure and its (dimension, value)
# pairs, sorted. The grand total of a measure is (measure, ()).
Key = tuple[str, tuple[tuple[str, str], ...]]


def _key(measure: str, *pairs: tuple[str, str]) -> Key:
    return (measure, tuple(sorted(pairs)))


@dataclass
class Released:
    """A table as it may be shown: every cell and total, its value or ``None`` with a reason."""

    table: Table
    values: dict[tuple, int | None]  # (row, column) with TOTAL for the margins
    reasons: dict[tuple, str]  # the hidden ones: PRIMARY or COMPLEMENTARY
    threshold: int
    rounding: int | None = None

    def shown(self, row, column=TOTAL) -> str:
        """The text of a cell: a number, "<5" or the hidden mark."""
        key = (row, column)
        reason = self.reasons.get(key)
        if reason == PRIMARY:
            return f"<{self.threshold}"
        if reason == COMPLEMENTARY:
            return HIDDEN_MARK
        return str(self.values[key])

    @property
    def suppressed(self) -> dict[str, int]:
        counts = {PRIMARY: 0, COMPLEMENTARY: 0}
        for reason in self.reasons.values():
            counts[reason] += 1
        return counts


@dataclass
class _Problem:
    values: dict[Key, int] = field(default_factory=dict)
    equations: list[tuple[Key, tuple[Key, ...]]] = field(default_factory=list)  # total = sum(parts)
    places: dict[int, dict[tuple, Key]] = field(default_factory=dict)  # table index → cell → key


def _build(tables: Sequence[Table]) -> _Problem:
    problem = _Problem()
    seen_equations = set()

    def equation(total: Key, parts: list[Key]) -> None:
        signature = (total, tuple(sorted(parts)))
        if parts and signature not in seen_equations:
            seen_equations.add(signature)
            problem.equations.append((total, tuple(parts)))

    def value(key: Key, count: int) -> None:
        known = problem.values.setdefault(key, count)
        if known != count:
            raise ValueError(f"two tables disagree on {key}: {known} and {count}")

    for index, table in enumerate(tables):
        places = problem.places[index] = {}
        grand = _key(table.measure)
        row_totals = {}
        for row in table.rows:
            row_key = _key(table.measure, (table.row_dimension, row))
            row_totals[row] = row_key
            places[(row, TOTAL)] = row_key
        places[(TOTAL, TOTAL)] = grand
        if table.column_dimension is None:
            for row in table.rows:
                value(row_totals[row], table.count(row))
            value(grand, sum(table.count(row) for row in table.rows))
            equation(grand, list(row_totals.values()))
            continue
        column_totals = {}
        for column in table.columns:
            column_key = _key(table.measure, (table.column_dimension, column))
            column_totals[column] = column_key
            places[(TOTAL, column)] = column_key
            value(column_key, sum(table.count(row, column) for row in table.rows))
        for row in table.rows:
            parts = []
            for column in table.columns:
                cell = _key(table.measure, (table.row_dimension, row), (table.column_dimension, column))
                places[(row, column)] = cell
                value(cell, table.count(row, column))
                parts.append(cell)
            value(row_totals[row], sum(table.count(row, column) for column in table.columns))
            equation(row_totals[row], parts)
        for column in table.columns:
            equation(column_totals[column], [places[(row, column)] for row in table.rows])
        value(grand, sum(problem.values[key] for key in row_totals.values()))
        equation(grand, list(row_totals.values()))
        equation(grand, list(column_totals.values()))
    return problem


def _moves(key: Key, problem: _Problem, primary: set[Key], threshold: int) -> list[int]:
    """The steps of -1, 0, +1 that keep a hidden count among the values the reader allows it: a "<t"
    stays within 0..t-1, any other hidden count stays 0 or at least t."""
    value, allowed = problem.values[key], []
    for step in (1, -1, 0):
        moved = value + step
        if (0 <= moved <= threshold - 1) if key in primary else (moved == 0 or moved >= threshold):
            allowed.append(step)
    return allowed


def _has_twin(
    problem: _Problem, hidden: set[Key], primary: set[Key], threshold: int, target: Key, budget: int = 20_000
) -> bool:
    """Is there a second table the reader cannot tell from the true one, differing in ``target``?

    Searches a change of -1, 0 or +1 to each hidden count that keeps every known sum and every
    hidden count within what the reader knows of it, with ``target`` changed. Finding one proves the
    target cannot be worked out; not finding one (or running out of budget) counts as exposed, and
    more is hidden: the answer may be too careful, never too trusting.
    """
    equations = []
    for total, parts in problem.equations:
        terms = [(key, sign) for key, sign in ((total, -1), *((part, 1) for part in parts)) if key in hidden]
        if terms:
            equations.append(terms)
    through: dict[Key, list[int]] = {}
    for index, terms in enumerate(equations):
        for key, _sign in terms:
            through.setdefault(key, []).append(index)
    # visit the target first, then the counts that share an equation with those already visited
    order, queued = [target], {target}
    for key in order:
        for index in through.get(key, ()):
            for other, _sign in equations[index]:
                if other not in queued:
                    queued.add(other)
                    order.append(other)
    moves = {key: _moves(key, problem, primary, threshold) for key in order}
    moves[target] = [step for step in moves[target] if step != 0]
    change: dict[Key, int] = {}
    visits = 0

    def holds(key) -> bool:
        for index in through.get(key, ()):
            terms = equations[index]
            open_terms = [(k, sign) for k, sign in terms if k not in change]
            done = sum(sign * change[k] for k, sign in terms if k in change)
            if not open_terms and done != 0:
                return False
            if len(open_terms) == 1:
                other, sign = open_terms[0]
                needed = -done * sign  # sign is ±1
                if needed not in moves[other]:
                    return False
        return True

    def search(position: int) -> bool:
        nonlocal visits
        visits += 1
        if visits > budget:
            return False
        if position == len(order):
            return True
        key = order[position]
        for step in moves[key]:
            change[key] = step
            if holds(key) and search(position + 1):
                return True
            del change[key]
        return False

    return search(0)


def _lines_with_one(problem: _Problem, hidden: set[Key]) -> list[tuple[Key, tuple[Key, ...]]]:
    return [
        (total, parts)
        for total, parts in problem.equations
        if sum(1 for key in (total, *parts) if key in hidden) == 1
    ]


def _cheapest_to_hide(problem: _Problem, members: Iterable[Key], hidden: set[Key]) -> Key | None:
    """The shown member that costs the reader least to lose: a cell before a total, then the
    smallest count (not zero, when a non-zero one is there), then a stable order."""
    candidates = [key for key in members if key not in hidden]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda key: (problem.values[key] == 0, len(key[1]) < 2, problem.values[key], key),
    )


def _protect(problem: _Problem, primary: set[Key], threshold: int) -> set[Key]:
    hidden = set(primary)
    while True:
        lonely = _lines_with_one(problem, hidden)
        if lonely:
            total, parts = lonely[0]
            choice = _cheapest_to_hide(problem, (*parts, total), hidden)
            if choice is None:  # cannot happen: the lonely one has company
                break
            hidden.add(choice)
            continue
        # a hidden zero worked out as zero singles out nobody (zeros are shown for that reason)
        exposed = {
            key
            for key in sorted(hidden)
            if problem.values[key] != 0 and not _has_twin(problem, hidden, primary, threshold, key)
        }
        if not exposed:
            return hidden
        choice = _widening(problem, exposed, hidden)
        if choice is None:  # everything the exposed counts touch is hidden already
            return hidden
        hidden.add(choice)


def _widening(problem: _Problem, exposed: set[Key], hidden: set[Key]) -> Key | None:
    """The next count to hide for an exposed one: the cheapest shown member of an equation through
    it; when every such equation is hidden through (the count is pinned from further away), of an
    equation through any hidden count."""

    def cheapest(keys) -> Key | None:
        options = [
            _cheapest_to_hide(problem, (*parts, total), hidden)
            for total, parts in problem.equations
            if keys & {total, *parts}
        ]
        options = [option for option in options if option is not None]
        if not options:
            return None
        return min(options, key=lambda key: (problem.values[key] == 0, problem.values[key], key))

    for target in sorted(exposed):
        choice = cheapest({target})
        if choice is not None:
            return choice
    return cheapest(hidden)


def suppress(
    tables: Sequence[Table], *, threshold: int = DEFAULT_THRESHOLD, rounding: int | None = None
) -> list[Released]:
    """The tables as they may be released together.

    ``rounding`` (e.g. 5) rounds every shown count to the nearest multiple after suppression: the
    totals are then no longer exact sums, which the note says.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if rounding is not None and rounding < 1:
        raise ValueError("rounding must be at least 1")
    problem = _build(tables)
    primary = {key for key, count in problem.values.items() if count < threshold}
    hidden = _protect(problem, primary, threshold)
    released = []
    for index, table in enumerate(tables):
        values, reasons = {}, {}
        for place, key in problem.places[index].items():
            count = problem.values[key]
            if key in hidden:
                values[place] = None
                reasons[place] = PRIMARY if key in primary else COMPLEMENTARY
            else:
                values[place] = count if rounding is None else rounding * round(count / rounding)
        released.append(Released(table, values, reasons, threshold, rounding))
    return released


def note(released: Released) -> str:
    """The plain-English note for a released table (the console translates its own wording)."""
    counts = released.suppressed
    parts = [
        f'Counts from 1 to {released.threshold - 1} are shown as "<{released.threshold}" so that no '
        "person can be singled out."
    ]
    if counts[COMPLEMENTARY]:
        parts.append(
            f'{counts[COMPLEMENTARY]} other count(s) are hidden ("{HIDDEN_MARK}") so that a small count '
            "cannot be worked out from the totals."
        )
    if released.rounding:
        parts.append(f"Counts are rounded to the nearest {released.rounding}; totals may not add up.")
    return " ".join(parts)
