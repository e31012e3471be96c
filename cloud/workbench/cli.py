"""``aisym workbench serve|init``: the web workbench, registered into the ``aisym`` app.

Django is imported inside the commands, so ``aisym --help`` stays fast and a machine without
the ``workbench`` extra still runs every other command.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import typer

workbench_app = typer.Typer(help="The web workbench: companies map their resources, the facilitator runs the park.",
                            no_args_is_help=True)


def _django(data_dir: Path | None) -> None:
    """Configure Django for the workbench (``data_dir``: where SQLite and the secret key live)."""
    if data_dir is not None:
        os.environ["AISYM_WORKBENCH_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloud.workbench.settings")
    # the database holds password hashes and private costs: what this process creates is the owner's alone
    os.umask(0o077)
    try:
        import django
    except ModuleNotFoundError:
        typer.echo("the workbench needs its extra: pip install -e '.[workbench]'", err=True)
        raise typer.Exit(2) from None
    django.setup()


def migrate_if_needed() -> int:
    """Apply the migrations the database lacks; returns how many were applied."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate", interactive=False, verbosity=0)
    return len(plan)


DataDir = typer.Option(None, "--dir", help="Folder of the SQLite database and secret key [env AISYM_WORKBENCH_DIR, "
                       "default .aisym]; DATABASE_URL names another database.")


@workbench_app.command("serve")
def serve(
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="TCP port on 127.0.0.1."),
    threads: int = typer.Option(8, min=1, max=64, help="Requests served at once."),
    data_dir: Path = DataDir,
) -> None:
    """Migrate the database if needed and serve the workbench on 127.0.0.1:PORT."""
    _django(data_dir)
    applied = migrate_if_needed()
    if applied:
        typer.echo(f"workbench: applied {applied} database migrations")
    from waitress import serve as waitress_serve

    from cloud.workbench.wsgi import application

    # http://localhost: browsers treat it as a secure context, so the Secure cookies hold
    typer.echo(f"workbench: open http://localhost:{port}/ (Ctrl-C stops it)", err=False)
    from cloud.workbench.limits import MAX_BODY_BYTES

    waitress_serve(application, host="127.0.0.1", port=port, threads=threads, ident="aisym-workbench",
                   max_request_body_size=MAX_BODY_BYTES, _quiet=True)


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    # 0600 from creation: the password is never readable by others, not even for an instant
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


@workbench_app.command("init")
def init(
    park: Path = typer.Argument(..., help="Park description (v2, or v1: read as the CLI reads it).",
                                exists=False, dir_okay=False),
    facilitator: str = typer.Option(None, help="User name of the park's facilitator (default: facilitator-<park id>)."),
    password_file: Path = typer.Option(None, help="Where the facilitator's password is written, mode 0600 "
                                       "(default: <dir>/workbench-<park id>-facilitator.txt)."),
    data_dir: Path = DataDir,
) -> None:
    """Create a park and its companies from its description, and a facilitator account."""
    _django(data_dir)
    migrate_if_needed()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from aisym.park import ParkError
    from cloud.workbench.accounts.audit import acting_as
    from cloud.workbench.accounts.models import Facilitator
    from cloud.workbench.parks.importer import ParkExists, import_park

    User = get_user_model()
    try:
        with transaction.atomic():
            p = import_park(park)
            name = facilitator or f"facilitator-{p.slug}"
            if User.objects.filter(username=name).exists():
                raise ParkExists(f"--facilitator: the user '{name}' exists already")
            password = secrets.token_urlsafe(18)
            with acting_as(None, "cli"):
                user = User.objects.create_user(name, password=password)
                Facilitator.objects.create(user=user, park=p)
            out = password_file or Path(settings.DATA_DIR) / f"workbench-{p.slug}-facilitator.txt"
            _write_secret(out, f"user: {name}\npassword: {password}\njoin code for companies: {p.join_code}\n")
    except (ParkError, ParkExists) as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    from cloud.workbench.tenancy import system_access

    with system_access():  # counted as the server (PostgreSQL's row policies know no viewer here)
        companies, listings = p.companies.count(), sum(c.listings.count() for c in p.companies.all())
    typer.echo(f"workbench: park '{p.slug}' ({p.name}): {companies} companies, {listings} listings; "
               f"facilitator '{name}', password in {out} (mode 0600)")


@workbench_app.command("export")
def export(
    park: str = typer.Argument(..., help="The park's id in the workbench."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the v2 park file here (default: print it)."),
    data_dir: Path = DataDir,
) -> None:
    """Write a park of the workbench as a v2 park file, costs included, for aisym twin, match and demo."""
    _django(data_dir)
    migrate_if_needed()
    from cloud.workbench.tenancy import system_access

    with system_access():  # the command line runs the server's side: costs included
        _export(park, out)


def _export(park: str, out: Path | None) -> None:
    from cloud.workbench.parks.export import export_park
    from cloud.workbench.parks.models import Park

    p = Park.objects.filter(slug=park).first()
    if p is None:
        known = ", ".join(Park.objects.values_list("slug", flat=True)) or "none yet"
        typer.echo(f"park: no park '{park}' in the workbench (parks: {known})", err=True)
        raise typer.Exit(2)
    text = export_park(p)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"workbench: wrote {out} ({p.companies.count()} companies)", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(workbench_app, name="workbench")
