"""The learner's board: which topics pass, and what to fix first.

``llmkit check`` runs each topic's public checks (``--hidden``: hidden checks,
instructors only) and prints one row per topic: passed / total, the first
failing check with its reason, and - when a topic fails while a topic it builds
on fails too - the advice to fix that prerequisite first. ``--all`` then lists
every failing check of the chosen topics.

A hidden run draws one seed for all its topics and prints it with a command
that replays that run exactly (``--seed``: the same probes on the same inputs).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from llmkit import registry
from llmkit.checks import Result, fresh_seed, run_hidden, run_public


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
                    console: Console | None = None, seed: int | None = None) -> list[TopicReport]:
    """Run the checks of ``topics`` (and of their prerequisites, for the advice).

    Hidden checks of every topic run on the one ``seed`` (default: a fresh one);
    public checks always use their snapshots' fixed seeds.
    """
    wanted = {t.number for t in topics}
    needed = sorted({p.number for t in topics for p in registry.dependency_closure(t)} | wanted)
    if hidden:
        seed = fresh_seed() if seed is None else seed

        def runner(topic: registry.Topic, spec: str | None) -> list[Result]:
            return run_hidden(topic, spec, seed=seed)  # run_probe pins torch's global generator too
    else:
        runner = run_public
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


_STATUS_STYLE = {"todo": "yellow", "fail": "red", "error": "red", "timeout": "red"}


def render_failures(reports: list[TopicReport], console: Console) -> None:
    """Every failing check of each report, one line each (``llmkit check --all``).

    Check names come from the kit; messages quote the learner's code and output,
    so they are escaped and cut to their first line.
    """
    for report in reports:
        failing = [r for r in report.results if not r.passed]
        if not failing:
            continue
        console.print(f"\n[bold]t{report.topic.code} {escape(report.topic.title)}[/bold]: "
                      f"{len(failing)} of {len(report.results)} checks fail")
        for r in failing:
            style = _STATUS_STYLE.get(r.status, "red")
            first_line = (r.message.strip().splitlines() or [""])[0]
            console.print(f"  [{style}]{r.status.upper():<7}[/{style}] {escape(r.check.name)}: {escape(first_line)}",
                          highlight=False)


def replay_command(seed: int, spec: str, topics: list[str] | None = None, flags: tuple[str, ...] = ()) -> str:
    """The shell command that reruns a hidden-check run: same seed, same code, same topics."""
    return shlex.join(["llmkit", "check", "--hidden", "--seed", str(seed), *flags, "--impl", spec, *(topics or [])])
