"""What a subset's closure holds, as plain data an editor can show, and as the text of
``dumpscript --preview``: a tree of the models reached, how many rows each step added, through
which relation, and which relations were not followed and why."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StoppedRelation:
    """A reverse relation the closure did not follow from the rows of a step."""

    relation: str
    """``app.Model.relation``."""
    model: str
    """The model whose rows point here through it (``app.Model``)."""
    reason: str
    """What a delete does along it (``SET_NULL``, ``PROTECT``, ``many-to-many``…), or the rule
    that stopped it (``--no-follow shop``, ``CASCADE, beyond --depth 2``)."""
    rows: int
    """Rows of :attr:`model` that point at the step's rows through it (links for a
    many-to-many relation), counted, not read."""
    hint: str = ""
    """How to follow it, when an option can (``--follow shop.Customer.reviews to include``)."""

    def text(self) -> str:
        unit = "link" if self.reason == "many-to-many" else "row"
        details = [self.reason, f"{self.rows} {unit}{'' if self.rows == 1 else 's'}"]
        hint = f"; {self.hint}" if self.hint else ""
        return f"{self.relation}: not followed ({', '.join(details)}{hint})"


@dataclass(frozen=True)
class SubsetStep:
    """Rows of one model that the closure added in one way: selected, or through a relation
    from the rows of the step above (the rows that step added)."""

    model: str
    """``app.Model``."""
    rows: int
    """The rows this step added (rows that an earlier step added are not counted again)."""
    relation: str | None = None
    """``app.Model.relation`` for a step reached through a reverse relation; None for the
    selected rows."""
    reason: str = "selected"
    """Why it was followed: ``CASCADE``, ``generic relation``, ``--follow``; ``selected``."""
    recursive: bool = False
    """The relation leads again to rows of this step's kind (a tree through a self-relation):
    those rows are counted here, at any depth."""
    steps: tuple[SubsetStep, ...] = ()
    stopped: tuple[StoppedRelation, ...] = ()

    def lines(self, prefix: str = "", last: bool = True, top: bool = True) -> list[str]:
        plural = "" if self.rows == 1 else "s"
        what = f"{self.rows} row{plural}"
        if self.relation is None:
            head = f"{self.model}: {what} (selected)"
        else:
            recursion = ", recursively" if self.recursive else ""
            head = f"{self.relation} → {self.model}: {what} ({self.reason}{recursion})"
        lines = [head if top else f"{prefix}{'└── ' if last else '├── '}{head}"]
        inner = "" if top else prefix + ("    " if last else "│   ")
        items: list[SubsetStep | StoppedRelation] = [*self.steps, *self.stopped]
        for number, item in enumerate(items):
            is_last = number == len(items) - 1
            if isinstance(item, SubsetStep):
                lines += item.lines(inner, is_last, top=False)
            else:
                lines.append(f"{inner}{'└── ' if is_last else '├── '}{item.text()}")
        return lines


@dataclass(frozen=True)
class SubsetPreview:
    """The closure of a selection (what ``dumpscript --preview`` prints), read with counts and
    key-only queries: no row is read."""

    steps: tuple[SubsetStep, ...]
    """One per selected model, by label; the steps reached from each below it."""
    totals: dict[str, int] = field(default_factory=dict)
    """Rows per model (``app.Model``) that the closure holds, by label."""
    closure: bool = True
    """Reverse relations were followed (off for whole models unless asked for)."""
    depth: int | None = None

    def text(self) -> str:
        """The preview as a tree, the same for the same database."""
        lines: list[str] = []
        for step in self.steps:
            lines += step.lines()
        count = sum(self.totals.values())
        models = len([total for total in self.totals.values() if total])
        lines.append(
            f"Total: {count} row{'' if count == 1 else 's'} of {models} model{'' if models == 1 else 's'}; "
            "the rows they point at (foreign keys, many-to-many links) come along when the script is written"
        )
        if not self.closure:
            lines.append("Dependents not added (whole models are selected): add them with --dependents")
        return "\n".join(lines) + "\n"
