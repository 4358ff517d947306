"""The learner's board: which topics pass, and what to fix first.

``llmkit check`` runs each topic's public checks (``--hidden``: hidden checks,
instructors only) and prints one row per topic: passed / total, the first
failing check with its reason, and - when a topic fails while a topic it builds
on fails too - the advice to fix that prerequisite first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from llmkit import registry
from llmkit.checks import Result, run_hidden, run_public


@dataclass
class TopicReport:
    topic: registry.Topic
    results: list[Result]
    blocked_by: list[registry.Topic] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def ok(self) -> bool:
        return bool(self.results) and self.passed == len(self.results)

    @property
    def first_failure(self) -> Result | None:
        return next((r for r in self.results if not r.passed), None)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.results)


def collect_reports(topics: list[registry.Topic], spec: str | None = None, hidden: bool = False,
                    console: Console | None = None) -> list[TopicReport]:
    """Run the checks of ``topics`` (and of their prerequisites, for the advice)."""
    wanted = {t.number for t in topics}
    needed = sorted({p.number for t in topics for p in registry.dependency_closure(t)} | wanted)
    runner = run_hidden if hidden else run_public
    reports: dict[int, TopicReport] = {}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("checking", total=len(needed))
        for number in needed:
            topic = registry.get(number)
            progress.update(task, description=f"checking t{topic.code} {topic.title}")
            reports[number] = TopicReport(topic, runner(topic, spec))
            progress.advance(task)
    for report in reports.values():
        if not report.ok:
            report.blocked_by = [p for p in registry.dependency_closure(report.topic)
                                 if p.number in reports and not reports[p.number].ok]
    return [reports[n] for n in sorted(wanted)]


def render(reports: list[TopicReport], console: Console, title: str) -> None:
    table = Table(title=title, show_lines=False)
    table.add_column("topic", no_wrap=True)
    table.add_column("passed", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("first problem / advice", overflow="fold")
    for report in reports:
        first = report.first_failure
        if report.ok:
            status, note = "[green]", "all checks pass"
        elif first is None:
            status, note = "[yellow]", "no checks found for this topic"
        else:
            status = "[yellow]" if first.status == "todo" else "[red]"
            note = escape(f"{first.check.name}: {first.message}")
            if report.blocked_by:
                names = ", ".join(f"t{p.code}" for p in report.blocked_by)
                verb = "fails" if len(report.blocked_by) == 1 else "fail"
                note += (f"\n[bold]advice:[/bold] this topic builds on {names}, which {verb} too - "
                         f"fix t{report.blocked_by[0].code} first")
        table.add_row(f"{status}t{report.topic.code} {report.topic.title}",
                      f"{status}{report.passed}/{len(report.results)}",
                      f"{report.seconds:.1f}s", note)
    console.print(table)
    done = sum(r.ok for r in reports)
    console.print(f"[bold]{done} of {len(reports)} topics passing[/bold]")
