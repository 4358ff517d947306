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
    sandbox_level: str = typer.Option("auto", "--sandbox", help="auto, bwrap, namespaces, userns or none "
                                                               "(auto: the strongest this machine has)"),
):
    """Grade submissions with the hidden checks, each topic in an isolated worker.

    The kit's own reference of every chosen topic is graded first, through the same
    sandbox (a canary): if it does not get full marks, nothing is graded and one
    sentence says what the sandbox could not do.
    """
    from pathlib import Path

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    try:
        from autograder import report, sandbox
        from autograder.grade import Config, Grader, GraderFault
        from autograder.submission import submission_id
    except ModuleNotFoundError:
        console.print("[red]grading needs the instructor kit (the autograder package is not installed)")
        raise typer.Exit(2) from None

    if mode not in ("fallback", "own"):
        console.print("[red]--mode must be 'fallback' or 'own'")
        raise typer.Exit(2)
    if sandbox_level not in ("auto", *sandbox.LEVELS):
        console.print("[red]--sandbox must be auto, bwrap, namespaces, userns or none")
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
        if (warning := sandbox.weaker_level_warning(grader.level, sandbox_level)) is not None:
            console.print(f"[yellow]warning: {escape(warning)}")
        progress.update(task, description="canary: the kit's reference through the sandbox")

        def stop(signum, frame):  # a `kill` cleans up like Ctrl-C: no worker or temporary folder is left
            raise KeyboardInterrupt

        import signal

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            results = grader.grade(sources, ids)
        except GraderFault as exc:
            progress.stop()
            console.print(f"[red]{escape(str(exc))}")
            raise typer.Exit(3) from None
        except KeyboardInterrupt:
            progress.stop()
            console.print(f"[yellow]interrupted: no worker is left running; the topics graded so far are stored "
                          f"under {escape(str(config.out))}, and the same command grades the rest")
            raise typer.Exit(130) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
    for sub, grades in results.values():
        report.write_submission_json(config.out, sub, grades)
        report.write_gradescope(config.out, sub, grades)
    gradebook = report.write_gradebook(config.out, results, chosen)
    for table in report.tables(results, chosen):
        console.print(table)
    report.print_reasons(console, results)
    console.print(f"sandbox: {grader.level}; gradebook: {gradebook}; per-submission JSON and Gradescope "
                  f"results.json under {config.out}")


@app.command("gradescope-bundle")
def gradescope_bundle(
    out: str = typer.Argument("autograder.zip", help="zip file to write"),
    topics: list[str] | None = typer.Option(None, "--topic", help="the assignment's topics, e.g. 1-6 (repeatable; "
                                                                 "default: all)"),
    jobs: int = typer.Option(2, help="workers in Gradescope's container"),
    mode: str = typer.Option("fallback", help="fallback or own (see `llmkit grade --help`)"),
):
    """Write a Gradescope autograder zip (setup.sh, run_autograder and the kit) for one assignment."""
    from pathlib import Path

    try:
        from autograder.gradescope import build_bundle
    except ModuleNotFoundError:
        console.print("[red]the Gradescope bundle needs the instructor kit (the autograder package is not installed)")
        raise typer.Exit(2) from None
    if mode not in ("fallback", "own"):
        console.print("[red]--mode must be 'fallback' or 'own'")
        raise typer.Exit(2)
    chosen = _topics(topics)
    names = build_bundle(Path(out), chosen, max(1, jobs), mode)
    points = sum(t.points for t in chosen)
    console.print(f"wrote {out} ({len(names)} files): topics {chosen[0].code}-{chosen[-1].code}, {points} points. "
                  f"Upload it as the autograder of a programming assignment worth {points} points.")


@app.command()
def release(
    out: str = typer.Argument(..., help="new folder to write the student release to"),
    as_zip: bool = typer.Option(False, "--zip", help="also write OUT.zip next to it (to publish as a download)"),
):
    """Build the student release: stubs, READMEs, notebooks, public checks - no solutions, no hidden checks."""
    from pathlib import Path

    try:
        from llmkit.release import build, leaks, zip_release
    except ModuleNotFoundError:
        console.print("[red]this is already a student release")
        raise typer.Exit(2) from None
    try:
        files = build(Path(out))
    except (FileExistsError, ValueError) as exc:  # ValueError: README.md's markers are out of place
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(2) from None
    problems = leaks(Path(out))
    for problem in problems:
        console.print(f"[red]{escape(problem)}")
    console.print(f"wrote {len(files)} files to {out}" + (" - with leaks!" if problems else ""))
    if problems:
        raise typer.Exit(1)
    if as_zip:
        console.print(f"wrote {zip_release(Path(out))}")
    console.print("next: publish it (git, the zip, `llmkit nbgrader` or `llmkit gradescope-bundle`); its README "
                  "tells students how to set up")


@app.command()
def submit(
    out: str = typer.Option("submission.zip", help="the zip file to write"),
    course: str | None = typer.Option(None, help="your course/ folder [default: ./course, else the installed kit's]"),
):
    """Pack your topic folders (Python sources and notebooks only) into a zip to hand in."""
    from pathlib import Path

    from llmkit.submit import SubmitError, find_course, pack, summary

    try:
        folder = Path(course) if course else find_course()
        if not folder.is_dir():
            raise SubmitError(f"--course: {folder} is not a folder")
        packed = pack(folder.resolve(), Path(out))
    except SubmitError as exc:
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(2) from None
    for line in summary(packed):
        console.print(escape(line), highlight=False)
    console.print("hand in this zip where your instructor asks (Gradescope, your course site)")


@app.command()
def nbgrader(
    course_dir: str = typer.Argument(..., help="new folder for the nbgrader course"),
    topics: list[str] | None = typer.Option(None, "--topic", help="topics to make assignments of, e.g. 1-6 "
                                                                 "(repeatable; default: all)"),
    course_id: str = typer.Option("llmkit", help="nbgrader's course id"),
):
    """Write an nbgrader course: config and one source assignment per topic (notebook, stubs, README)."""
    from pathlib import Path

    try:
        from llmkit.nbgrader_course import write_course
    except ModuleNotFoundError:
        console.print("[red]the nbgrader course needs the instructor kit (this is a student release)")
        raise typer.Exit(2) from None
    chosen = _topics(topics)
    try:
        assignments = write_course(Path(course_dir), chosen, course_id)
    except FileExistsError as exc:
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(2) from None
    console.print(f"wrote {len(assignments)} assignments to {course_dir}/source; next, in {course_dir}:")
    console.print(f"  nbgrader generate_assignment {assignments[0]}   # and the others, as the term goes on",
                  highlight=False)


@app.command()
def run(
    impl: str = typer.Option("course", help=IMPL_HELP),
    play: str = typer.Option("hamlet", help="which bundled play to use"),
    plot: str | None = typer.Option(None, help="write attention heat maps to this PNG file"),
    quick: bool = typer.Option(False, "--quick", help="a short run (about 3 minutes on 2 CPU cores; default: 15)"),
    minutes: float | None = typer.Option(None, help="pretraining: wall-clock budget of the training loop "
                                                     "[default: 6; --quick: 1]"),
    steps: int | None = typer.Option(None, help="pretraining: a fixed number of steps instead of --minutes"),
    out: str | None = typer.Option(None, help="folder for everything the run writes (pretrain/, classify/, "
                                              "instruct/, report/) [default: runs/course; --quick: runs/quick]"),
    data: str | None = typer.Option(None, help="your own spam file: label<TAB>text lines, label ham or spam"),
    instructions: str | None = typer.Option(None, help="your own Alpaca JSON: a list of {instruction, input, "
                                                       "output}"),
    weights: str | None = typer.Option(None, help="finetune GPT-2's weights from this folder (config.json + "
                                                  "model.safetensors) instead of pretraining"),
    judge: str = typer.Option("offline", help="offline (exact match and token F1) or ollama (a local model "
                                              "scores too)"),
    judge_model: str = typer.Option("llama3.2", help="the Ollama model that judges (with --judge ollama)"),
    ollama_host: str = typer.Option("http://localhost:11434", help="the Ollama server (with --judge ollama)"),
    max_examples: int | None = typer.Option(None, help="at most this many examples in each split of each "
                                                       "finetuning step (a smoke test)"),
    fresh: bool = typer.Option(False, "--fresh", help="start over: do not reuse the finished steps in --out"),
):
    """The main job: text -> BPE -> pretraining -> spam classification -> instruction finetuning -> evaluation,
    on your own code, with a report folder. Finished steps in --out are reused, so an interrupted run picks up
    where it stopped."""
    from pathlib import Path

    from llmkit.pipeline import run_pipeline

    course = _course_run(quick=quick, minutes=minutes, steps=steps, out=out, data=data, instructions=instructions,
                         weights=weights, judge=judge, judge_model=judge_model, ollama_host=ollama_host,
                         max_examples=max_examples, fresh=fresh)
    if isinstance(course, str):
        console.print(f"[red]{course}")
        raise typer.Exit(2)
    with resolver.session(_choice(impl)):  # fresh imports of the chosen topics, undone afterwards
        code = run_pipeline(play, console, Path(plot) if plot else None, course)
    raise typer.Exit(code)


def _course_run(*, quick: bool, minutes, steps, out, data, instructions, weights, judge, judge_model, ollama_host,
                max_examples, fresh):
    """``llmkit run``'s options as a :class:`llmkit.finetune.CourseRun`, or one sentence saying what is wrong."""
    import dataclasses
    from pathlib import Path

    from llmkit.finetune import CourseRun, course_settings, read_data, weights_settings

    if judge not in ("offline", "ollama"):
        return f"--judge must be offline or ollama, not {judge!r}"
    for flag, path, folder in (("--data", data, False), ("--instructions", instructions, False),
                               ("--weights", weights, True)):
        if path is not None and not (Path(path).is_dir() if folder else Path(path).is_file()):
            return f"{flag}: {path} is not an existing {'folder' if folder else 'file'}"
    if max_examples is not None and max_examples < 1:
        return f"--max-examples must be at least 1, not {max_examples}"
    pretraining, finetuning = course_settings(quick)
    pretraining = dataclasses.replace(pretraining, **{k: v for k, v in (("minutes", minutes), ("steps", steps))
                                                      if v is not None})
    finetuning = dataclasses.replace(finetuning, judge=judge, judge_model=judge_model, ollama_host=ollama_host,
                                     max_examples=max_examples)
    if weights is not None:
        finetuning = weights_settings(finetuning)
    where = Path(out) if out else Path("runs/quick" if quick else "runs/course")
    course = CourseRun(where, pretraining, finetuning, data=Path(data) if data else None,
                       instructions=Path(instructions) if instructions else None,
                       weights=Path(weights) if weights else None, fresh=fresh)
    try:  # a malformed file of the user's stops the run before anything is computed
        read_data(course)
    except (ValueError, FileNotFoundError) as exc:
        return str(exc)
    return course


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
