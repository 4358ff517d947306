"""The ``llmkit`` command line."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from llmkit import registry, resolver

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Build GPT-2 from scratch, one topic at a time.")
console = Console()


@app.callback()
def _fresh_console():
    """Build the console per invocation, so it sees the terminal width of that moment."""
    global console
    console = Console()

IMPL_HELP = ("whose code answers `import course.tNN`: course (yours), solutions (the reference), "
             "a directory of topic folders, or a mix such as 'course,1-3=solutions'")


def _topics(refs: list[str] | None) -> list[registry.Topic]:
    try:
        return registry.select(refs)
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}")
        raise typer.Exit(2) from None


def _choice(impl: str) -> resolver.Choice:
    """Parse ``--impl``; a bad value is a clear error. Commands use it inside a
    ``resolver.session``, so nothing of the choice outlives the command."""
    try:
        return resolver.Choice(impl)
    except (ValueError, ModuleNotFoundError) as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from None


@app.command()
def check(
    topics: list[str] | None = typer.Argument(None, help="topics to check, e.g. 3 t05 1-4 (default: all)"),
    impl: str = typer.Option("course", help=IMPL_HELP),
    hidden: bool = typer.Option(False, help="run the hidden checks in-process (instructors)"),
    seed: int | None = typer.Option(None, min=0, max=2**63 - 1,
                                    help="with --hidden: replay the run that printed this seed "
                                         "(the same probes on the same inputs)"),
    every: bool = typer.Option(False, "--all", help="after the board, list every failing check of each topic"),
):
    """Show which topics pass their checks, and what to fix first."""

    from llmkit.board import collect_reports, render, render_failures, replay_command
    from llmkit.checks import PUBLIC_SEEDS, fresh_seed

    if seed is not None and not hidden:
        console.print(f"[red]--seed replays a hidden-check run: add --hidden (public checks always run on "
                      f"their snapshots' fixed seeds {', '.join(map(str, PUBLIC_SEEDS))})")
        raise typer.Exit(2)
    _choice(impl)
    chosen = _topics(topics)
    run_seed = (fresh_seed() if seed is None else seed) if hidden else None  # one seed for every topic
    reports = collect_reports(chosen, impl, hidden=hidden, console=console, seed=run_seed)
    kind = "hidden" if hidden else "public"
    render(reports, console, f"llmkit {kind} checks on {escape(impl)}")
    if every:
        render_failures(reports, console)
    if run_seed is not None:
        replay = replay_command(run_seed, impl, topics, ("--all",) if every else ())
        console.print(f"hidden checks ran on seed {run_seed} - replay: {escape(replay)}",
                      soft_wrap=True, highlight=False)
    raise typer.Exit(0 if all(r.ok for r in reports) else 1)


@app.command()
def promises(
    topics: list[str] | None = typer.Argument(None, help="topics, e.g. 3 t05 1-4 (default: all)"),
    unkept: bool = typer.Option(False, "--unkept", help="show only promises no hidden check keeps"),
):
    """Each README promise of a topic's contract, and the hidden checks that keep it."""
    from rich.table import Table

    from llmkit.promises import coverage

    problems = 0
    for topic in _topics(topics):
        report = coverage(topic)
        table = Table(title=f"t{topic.code} {topic.title}: README promises", show_lines=False)
        for column in ("hole", "promise", "kept by"):
            table.add_column(column, overflow="fold")
        for p in report.promises:
            if unkept and p.kept:
                continue
            kept_by = ", ".join(p.checks) or (f"[dim]not behaviour: {p.exempt}" if p.exempt else "[red]NO CHECK")
            table.add_row(escape(p.hole or ""), escape(p.text), kept_by)
        console.print(table)
        for fragment in report.stale:
            console.print(f"[red]stale: {fragment} is in no promise of the README")
        problems += len(report.unkept) + len(report.stale)
    raise typer.Exit(1 if problems else 0)


@app.command()
def topics():
    """List the course's topics and which of them this kit contains."""
    from rich.table import Table

    table = Table(title="llmkit topics")
    for column in ("#", "topic", "stage", "builds on", "in kit"):
        table.add_column(column)
    for t in registry.TOPICS:
        table.add_row(t.code, t.title, registry.STAGES[t.stage],
                      ", ".join(f"{p:02d}" for p in t.prereqs) or "-", "yes" if t.available else "")
    console.print(table)


def _reference_topics() -> list[registry.Topic]:
    root = resolver.named_root("solutions")
    return [t for t in registry.TOPICS if (root / t.package).is_dir()]


@app.command()
def stubs(check_only: bool = typer.Option(False, "--check", help="only report stale stubs")):
    """Regenerate the stubs in course/ from the reference in solutions/."""
    from llmkit import stubgen

    course = resolver.named_root("course")
    if check_only:
        stale = stubgen.stale_files(_reference_topics(), course)
        for path in stale:
            console.print(f"stale: {path}")
        console.print("stubs are up to date" if not stale else "run `llmkit stubs` to regenerate")
        raise typer.Exit(1 if stale else 0)
    changed = stubgen.write_stubs(_reference_topics(), course)
    for path in changed:
        console.print(f"wrote {path}")
    console.print(f"{len(changed)} stub file(s) changed")


@app.command()
def snapshots(
    topics: list[str] | None = typer.Argument(None, help="topics (default: all)"),
    check_only: bool = typer.Option(False, "--check", help="only report stale snapshots"),
):
    """Regenerate the public checks' reference snapshots from solutions/."""
    from llmkit import snapshots as snap

    stale_any = False
    for topic in _topics(topics):
        if check_only:
            problems = snap.stale(topic)
            stale_any |= bool(problems)
            for problem in problems:
                console.print(f"t{topic.code} stale: {problem}")
        else:
            console.print(f"wrote {snap.write(topic)}")
    if check_only:
        console.print("snapshots are up to date" if not stale_any else "run `llmkit snapshots`")
        raise typer.Exit(1 if stale_any else 0)


@app.command()
def grade(
    submissions: list[str] = typer.Argument(..., help="submission folders, git checkouts or .zip files"),
    out: str = typer.Option("grading", help="output folder (results, gradebook, Gradescope files)"),
    mode: str = typer.Option("fallback", help="fallback: failed prerequisites are replaced by the reference; "
                                              "own: every topic runs on the learner's own earlier topics"),
    jobs: int = typer.Option(1, help="workers to run in parallel"),
    topics: list[str] | None = typer.Option(None, "--topic", help="grade only these topics (repeatable)"),
    timeout: float = typer.Option(180.0, help="wall-clock seconds per topic worker"),
    memory: int = typer.Option(3072, help="memory limit per worker, MB"),
    sandbox_level: str = typer.Option("auto", "--sandbox", help="auto, namespaces, userns or none"),
):
    """Grade submissions with the hidden checks, each topic in an isolated worker."""
    from pathlib import Path

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    try:
        from autograder import report, sandbox
        from autograder.grade import Config, Grader
        from autograder.submission import submission_id
    except ModuleNotFoundError:
        console.print("[red]grading needs the instructor kit (the autograder package is not installed)")
        raise typer.Exit(2) from None

    if mode not in ("fallback", "own"):
        console.print("[red]--mode must be 'fallback' or 'own'")
        raise typer.Exit(2)
    if sandbox_level not in ("auto", "namespaces", "userns", "none"):
        console.print("[red]--sandbox must be auto, namespaces, userns or none")
        raise typer.Exit(2)
    chosen = _topics(topics)
    limits = sandbox.Limits(wall_s=timeout, cpu_s=int(timeout), memory_mb=memory)
    config = Config(Path(out).resolve(), mode, max(1, jobs), chosen, limits, sandbox_level)
    sources = [Path(s).expanduser() for s in submissions]
    taken: set[str] = set()
    ids = [submission_id(s, taken) for s in sources]
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("grading", total=len(sources) * len(chosen))

        def on_topic(sub, result):
            progress.update(task, description=f"{sub.id} {result.topic}")
            progress.advance(task)

        grader = Grader(config, on_topic)
        if grader.level == "none":
            console.print("[yellow]warning: no sandbox on this machine (needs unshare): learner code runs as a "
                          "plain process and could read the reference or use the network")
        results = grader.grade(sources, ids)
    for sub, grades in results.values():
        report.write_submission_json(config.out, sub, grades)
        report.write_gradescope(config.out, sub, grades)
    gradebook = report.write_gradebook(config.out, results, chosen)
    console.print(report.table(results, chosen))
    report.print_reasons(console, results)
    console.print(f"sandbox: {grader.level}; gradebook: {gradebook}; per-submission JSON and Gradescope "
                  f"results.json under {config.out}")


@app.command("gradescope-bundle")
def gradescope_bundle(out: str = typer.Argument("autograder.zip", help="zip file to write")):
    """Write a Gradescope autograder zip (setup.sh, run_autograder and the kit)."""
    from pathlib import Path

    from autograder.gradescope import build_bundle

    names = build_bundle(Path(out))
    console.print(f"wrote {out} ({len(names)} files); upload it as the assignment's autograder")


@app.command()
def release(out: str = typer.Argument(..., help="new folder to write the student release to")):
    """Build the student release: stubs, READMEs, notebooks, public checks - no solutions, no hidden checks."""
    from pathlib import Path

    try:
        from llmkit.release import build, leaks
    except ModuleNotFoundError:
        console.print("[red]this is already a student release")
        raise typer.Exit(2) from None
    try:
        files = build(Path(out))
    except FileExistsError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    problems = leaks(Path(out))
    for problem in problems:
        console.print(f"[red]{problem}")
    console.print(f"wrote {len(files)} files to {out}" + (" - with leaks!" if problems else ""))
    raise typer.Exit(1 if problems else 0)


@app.command()
def run(
    impl: str = typer.Option("course", help=IMPL_HELP),
    play: str = typer.Option("hamlet", help="which bundled play to use"),
    plot: str | None = typer.Option(None, help="write attention heat maps to this PNG file"),
    minutes: float | None = typer.Option(None, help="pretraining: wall-clock budget of the training loop [default: 4]"),
    steps: int | None = typer.Option(None, help="pretraining: a fixed number of steps instead of --minutes"),
    out: str = typer.Option("runs/shakespeare", help="pretraining: folder for checkpoint, run.json, loss curve"),
):
    """The main job: run the pipeline built so far on the bundled Shakespeare text, pretraining included."""
    from pathlib import Path

    from llmkit.pipeline import run_pipeline

    settings = _train_settings(minutes=minutes, steps=steps)
    with resolver.session(_choice(impl)):  # fresh imports of the chosen topics, undone afterwards
        code = run_pipeline(play, console, Path(plot) if plot else None, settings, Path(out))
    raise typer.Exit(code)


def _train_settings(**flags):
    from llmkit.pretrain import TrainSettings

    return TrainSettings(**{k: v for k, v in flags.items() if v is not None})


@app.command()
def train(
    out: str = typer.Option("runs/shakespeare", help="folder for the checkpoint, run.json and the loss curve"),
    resume: bool = typer.Option(False, "--resume", help="continue the run in --out from its checkpoint"),
    minutes: float | None = typer.Option(None, help="wall-clock budget of the training loop [default: 4]"),
    steps: int | None = typer.Option(None, help="a fixed number of optimizer steps instead of --minutes"),
    d_model: int | None = typer.Option(None, help="model width [default: 128]"),
    num_layers: int | None = typer.Option(None, help="transformer blocks [default: 4]"),
    num_heads: int | None = typer.Option(None, help="attention heads [default: 4]"),
    context_length: int | None = typer.Option(None, help="tokens per training window [default: 64]"),
    dropout: float | None = typer.Option(None, help="dropout rate [default: 0; a short run does not need it]"),
    batch_size: int | None = typer.Option(None, help="windows per optimizer step [default: 4]"),
    max_lr: float | None = typer.Option(None, help="peak learning rate, after warm-up [default: 0.002]"),
    eval_every: int | None = typer.Option(None, help="steps between validation measurements [default: 100]"),
    sample_every: int | None = typer.Option(None, help="steps between sample generations [default: 400]"),
    plays: list[str] | None = typer.Option(None, "--play", help="train on these plays only (default: all)"),
    device: str = typer.Option("cpu", help="cpu or cuda (bfloat16 autocast on a GPU)"),
    seed: int = typer.Option(0, help="seed of the initialization, the data order and the samples"),
    impl: str = typer.Option("course", help=IMPL_HELP),
):
    """Pretrain a small GPT on the bundled Shakespeare with your own code (topics 02-25)."""
    from pathlib import Path

    from llmkit.pretrain import pretrain

    if device.startswith("cuda") and not torch_cuda_available():
        console.print("[red]--device cuda: PyTorch sees no CUDA GPU on this machine; use --device cpu")
        raise typer.Exit(2)
    settings = _train_settings(minutes=minutes, steps=steps, d_model=d_model, num_layers=num_layers,
                               num_heads=num_heads, context_length=context_length, dropout=dropout,
                               batch_size=batch_size,
                               max_lr=max_lr, eval_every=eval_every, sample_every=sample_every,
                               plays=list(plays or []), device=device, seed=seed)
    with resolver.session(_choice(impl)):
        code = pretrain(settings, Path(out), console, resume=resume)
    raise typer.Exit(code)


def torch_cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@app.command()
def generate(
    prompt: str = typer.Argument(..., help="the text to continue"),
    weights: str | None = typer.Option(None, help="a folder with GPT-2's config.json and model.safetensors"),
    checkpoint: str | None = typer.Option(None, help="a checkpoint written by `llmkit train`"),
    max_new_tokens: int = typer.Option(50, help="tokens to add"),
    temperature: float = typer.Option(0.0, help="0 = greedy; higher = more varied"),
    top_k: int | None = typer.Option(None, help="sample among the k most likely tokens only"),
    top_p: float | None = typer.Option(None, help="sample from the smallest set of tokens holding this mass"),
    seed: int = typer.Option(0, help="seed of the sampling generator"),
    device: str = typer.Option("cpu", help="cpu or cuda"),
    impl: str = typer.Option("course", help=IMPL_HELP),
):
    """Continue PROMPT with your model: GPT-2's real weights (--weights) or your own pretraining (--checkpoint)."""
    from pathlib import Path

    from llmkit import textgen
    from llmkit.checks import describe_exception

    if (weights is None) == (checkpoint is None):
        console.print("[red]give exactly one of --weights DIR (GPT-2's files; `llmkit gpt2 download` fetches "
                      "them) or --checkpoint FILE (from `llmkit train`)")
        raise typer.Exit(2)
    with resolver.session(_choice(impl)):
        try:
            if weights is not None:
                model, tokenizer = textgen.from_weights(Path(weights), device)
            else:
                model, tokenizer = textgen.from_checkpoint(Path(str(checkpoint)), device)
            text = textgen.continue_text(model, tokenizer, prompt, max_new_tokens=max_new_tokens,
                                         temperature=temperature, top_k=top_k, top_p=top_p, seed=seed,
                                         device=device)
        except NotImplementedError as exc:
            console.print(f"[yellow]Generating needs: {exc}.[/yellow] Write it, then run `llmkit check`.")
            raise typer.Exit(1) from None
        except Exception as exc:  # a missing file, a bad checkpoint, a learner's bug: one line
            console.print(f"[red]{escape(describe_exception(exc))}")
            raise typer.Exit(1) from None
    console.print(escape(text), highlight=False)


gpt2_app = typer.Typer(no_args_is_help=True, help="GPT-2's official weights (optional; needs the network).")
app.add_typer(gpt2_app, name="gpt2")


@gpt2_app.command("download")
def gpt2_download(
    size: str = typer.Option("124M", help="124M, 355M, 774M or 1558M"),
    cache_dir: str | None = typer.Option(None, help="where to keep the files (default: Hugging Face's cache)"),
):
    """Fetch GPT-2's config.json and model.safetensors from the Hugging Face hub and print their folder."""
    from llmkit import gpt2_files

    try:
        folder = gpt2_files.download(size, cache_dir)
    except gpt2_files.DownloadError as exc:
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(1) from None
    console.print(f"GPT-2 {size} is in {folder}")
    console.print(f'try: llmkit generate --weights {folder} "Every effort moves you"')


if __name__ == "__main__":
    app()
