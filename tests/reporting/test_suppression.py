"""Small-cell suppression: hand-counted cases, and a reader who tries every combination.

The property test plays the reader: from the released tables alone (numbers, "<5", the hidden mark)
it writes every sum it knows, gives each hidden count the values the reader knows it may take ("<5":
0 to 4; hidden: 0 or at least 5) and searches all the integer solutions. No hidden count may come out
with a single possible value, but a hidden zero (like a shown zero, it singles out nobody). The
equations are written here from the tables' definition, not taken from the module under test.
"""

from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.suppression import COMPLEMENTARY, HIDDEN_MARK, PRIMARY, TOTAL, Table, note, suppress


def one_way(cells: dict, measure="sent", dimension="service") -> Table:
    return Table(measure, dimension, list(cells), {(key,): value for key, value in cells.items()})


def two_way(grid: list[list[int]], measure="sent", rows_dim="service", columns_dim="month") -> Table:
    rows = [f"r{i}" for i in range(len(grid))]
    columns = [f"c{j}" for j in range(len(grid[0]))]
    cells = {(rows[i], columns[j]): grid[i][j] for i in range(len(rows)) for j in range(len(columns))}
    return Table(measure, rows_dim, rows, cells, columns_dim, columns)


def test_a_small_count_is_hidden_and_so_is_the_cell_that_would_give_it_away():
    (table,) = suppress([one_way({"a": 4, "b": 100})])
    assert table.shown("a") == "<5"
    assert table.shown("b") == HIDDEN_MARK  # else 104 - 100 = 4
    assert table.shown(TOTAL) == "104"
    assert table.suppressed == {PRIMARY: 1, COMPLEMENTARY: 1}


def test_a_zero_is_shown_as_small_so_two_small_counts_protect_each_other():
    # a "<5" beside a zero shown "<5" too: 4 + 0 or 3 + 1 or …, so nothing else need be hidden
    (table,) = suppress([one_way({"a": 4, "b": 100, "c": 0})])
    assert table.shown("a") == table.shown("c") == "<5"
    assert table.shown("b") == "100" and table.shown(TOTAL) == "104"
    assert_unrecoverable([table])


def test_nothing_is_hidden_when_nothing_is_small():
    (table,) = suppress([two_way([[5, 9], [12, 30]])])
    assert table.reasons == {}
    assert table.shown("r0", "c1") == "9" and table.shown(TOTAL, TOTAL) == "56"


def test_two_small_counts_that_sum_to_eight_are_two_fours_so_a_third_is_hidden():
    (table,) = suppress([two_way([[4, 4, 30], [9, 9, 9]])])
    # two "<5" in a row of 38 with 30 shown: the reader knows they are two fours, so more is hidden
    assert table.shown("r0", "c0") == table.shown("r0", "c1") == "<5"
    assert table.values[("r0", "c2")] is None or table.values[("r0", TOTAL)] is None
    assert_unrecoverable([table])


def test_a_small_count_beside_a_hidden_one_summing_to_six_is_protected():
    # "<5" + hidden = 6 would be 1 + 5 (a hidden count that is not "<5" is 0 or at least 5)
    (table,) = suppress([one_way({"a": 1, "b": 5, "c": 40})])
    assert table.shown("a") == "<5"
    assert_unrecoverable([table])


def test_totals_shared_across_tables_are_protected_in_both():
    by_month = two_way([[3, 20], [10, 10]], columns_dim="month")
    by_urgency = two_way([[12, 11], [8, 12]], columns_dim="urgency")
    released = suppress([by_month, by_urgency])
    assert released[0].shown("r0", "c0") == "<5"
    assert_unrecoverable(released)


def test_tables_that_disagree_on_a_shared_total_are_refused():
    with pytest.raises(ValueError, match="disagree"):
        suppress([two_way([[1, 2]]), one_way({"r0": 4})])


def test_rounding_rounds_what_is_shown_and_the_note_says_so():
    (table,) = suppress([one_way({"a": 12, "b": 28})], rounding=5)
    assert table.shown("a") == "10" and table.shown("b") == "30" and table.shown(TOTAL) == "40"
    assert "rounded to the nearest 5" in note(table)


def test_the_note_says_what_was_hidden_and_why():
    (table,) = suppress([one_way({"a": 2, "b": 50})])
    text = note(table)
    assert '"<5"' in text and "singled out" in text and "1 other count" in text


def test_the_threshold_is_a_setting():
    (table,) = suppress([one_way({"a": 7, "b": 50})], threshold=10)
    assert table.shown("a") == "<10"


# ---- the reader -------------------------------------------------------------------------------


def _equations(released) -> tuple[dict, list]:
    """Every sum the reader knows: each table's rows, columns and grand total; a total named the
    same way in two tables (same measure, dimension and value) is one unknown."""
    names, equations = {}, []

    def name(measure, *pairs):
        return (measure, tuple(sorted(pairs)))

    for table in released:
        t = table.table
        grand = name(t.measure)
        names[grand] = table.values[(TOTAL, TOTAL)], table.reasons.get((TOTAL, TOTAL))
        row_names = []
        for row in t.rows:
            row_name = name(t.measure, (t.row_dimension, row))
            names[row_name] = table.values[(row, TOTAL)], table.reasons.get((row, TOTAL))
            row_names.append(row_name)
        equations.append((grand, row_names))
        if t.column_dimension is None:
            continue
        column_names = []
        for column in t.columns:
            column_name = name(t.measure, (t.column_dimension, column))
            names[column_name] = table.values[(TOTAL, column)], table.reasons.get((TOTAL, column))
            column_names.append(column_name)
            cells = []
            for row in t.rows:
                cell = name(t.measure, (t.row_dimension, row), (t.column_dimension, column))
                names[cell] = table.values[(row, column)], table.reasons.get((row, column))
                cells.append(cell)
            equations.append((column_name, cells))
        for row, row_name in zip(t.rows, row_names, strict=True):
            cells = [name(t.measure, (t.row_dimension, row), (t.column_dimension, c)) for c in t.columns]
            equations.append((row_name, cells))
        equations.append((grand, column_names))
    return names, equations


def _possible_values(released, bound: int) -> dict:
    """Every value each hidden count takes over the integer solutions of the reader's equations
    (a depth-first search that fills in what an equation with one unknown left forces)."""
    names, equations = _equations(released)
    threshold = released[0].threshold
    hidden = [key for key, (value, reason) in names.items() if reason]
    hidden_set = set(hidden)
    # a part is at most its total minus the shown parts beside it, when that total is shown
    ceiling = dict.fromkeys(hidden, bound)
    for total, parts in equations:
        if total not in hidden_set:
            rest = names[total][0] - sum(names[p][0] for p in parts if p not in hidden_set)
            for part in parts:
                if part in hidden_set:
                    ceiling[part] = min(ceiling[part], rest)
    domain = {}
    for key in hidden:
        if names[key][1] == PRIMARY:
            domain[key] = set(range(threshold))
        else:
            domain[key] = {0} | set(range(threshold, max(ceiling[key], 0) + 1))
    through = {key: [] for key in hidden}
    for index, (total, parts) in enumerate(equations):
        for member in {total, *parts}:
            if member in hidden_set:
                through[member].append(index)
    seen = {key: set() for key in hidden}

    def value(assignment, member):
        return assignment.get(member) if member in hidden_set else names[member][0]

    def propagate(assignment, trail, start) -> bool:
        queue = list(start)
        while queue:
            key = queue.pop()
            for index in through[key]:
                total, parts = equations[index]
                members = [(total, -1), *((part, 1) for part in parts)]
                open_members = [(m, sign) for m, sign in members if value(assignment, m) is None]
                known = [(m, sign) for m, sign in members if value(assignment, m) is not None]
                done = sum(sign * value(assignment, m) for m, sign in known)
                if not open_members:
                    if done != 0:
                        return False
                elif len(open_members) == 1:
                    member, sign = open_members[0]
                    forced = -done * sign
                    if forced not in domain[member]:
                        return False
                    assignment[member] = forced
                    trail.append(member)
                    queue.append(member)
        return True

    def search(assignment):
        if all(len(values) > 1 for values in seen.values()):
            return
        free = [key for key in hidden if key not in assignment]
        if not free:
            for key, found in assignment.items():
                seen[key].add(found)
            return
        key = min(free, key=lambda k: len(domain[k]))
        for choice in sorted(domain[key]):
            trail = [key]
            assignment[key] = choice
            if propagate(assignment, trail, [key]):
                search(assignment)
            for undone in trail:
                del assignment[undone]

    search({})
    return seen


def assert_unrecoverable(released) -> None:
    grand = max(sum(table.table.cells.values()) for table in released)
    seen = _possible_values(released, bound=grand + 1)
    truth = _truth(released)
    # a hidden zero that comes out as zero singles out nobody, as a shown zero does
    recovered = {key: values for key, values in seen.items() if len(values) < 2 and truth[key] != 0}
    assert recovered == {}, f"recoverable hidden counts: {recovered}"


small_counts = st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 7, 9, 12])


@st.composite
def released_together(draw):
    rows = draw(st.integers(1, 3))
    columns = draw(st.integers(1, 3))
    first = [[draw(small_counts) for _ in range(columns)] for _ in range(rows)]
    tables = [two_way(first, columns_dim="month")]
    if draw(st.booleans()):
        # a second table of the same rows by another dimension: same row totals, other split
        second_columns = draw(st.integers(2, 3))
        second = []
        for row in first:
            total = sum(row)
            cuts = sorted(draw(st.integers(0, total)) for _ in range(second_columns - 1))
            bounds = [0, *cuts, total]
            second.append([bounds[k + 1] - bounds[k] for k in range(second_columns)])
        tables.append(two_way(second, columns_dim="urgency"))
    if draw(st.booleans()):
        tables.append(one_way({f"r{i}": sum(row) for i, row in enumerate(first)}))
    return tables


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(released_together())
def test_no_hidden_count_can_be_worked_out_from_the_tables_released_together(tables):
    released = suppress(tables)
    for table in released:
        # every small count is hidden, every shown one is exact
        for place, value in table.values.items():
            if value is None:
                continue
            row, column = place
            expected = _true_value(table.table, row, column)
            assert value == expected
            assert value >= table.threshold
    assert_unrecoverable(released)


def _true_value(table, row, column):
    rows = table.rows if row == TOTAL else [row]
    if table.column_dimension is None:
        return sum(table.count(r) for r in rows)
    columns = table.columns if column == TOTAL else [column]
    return sum(table.count(r, c) for r, c in product(rows, columns))


def _truth(released) -> dict:
    """Every count's true value, by the reader's names (for judging what was recovered)."""
    truth = {}
    for table in released:
        t = table.table
        for row, column in table.values:
            pairs = []
            if row != TOTAL:
                pairs.append((t.row_dimension, row))
            if column != TOTAL and t.column_dimension is not None:
                pairs.append((t.column_dimension, column))
            truth[(t.measure, tuple(sorted(pairs)))] = _true_value(t, row, column)
    return truth
