"""Command line: click commands only. Parse arguments, call the library, print.

Results go to stdout, progress and warnings to stderr. Errors raised by the library
(`lambdabench.errors`) become a clear message and an exit status (2 bad usage, 1 run
failure) with no traceback unless `--debug` is given.
"""

from __future__ import annotations

import sys

import click

from lambdabench import __version__
from lambdabench.errors import LambdabenchError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambdabench")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Tune AWS Lambda functions: sweep memory and timeout, measure, price, recommend."""
    ctx.obj = {"debug": debug}


def fail(message: str, hint: str | None = None, status: int = 2) -> None:
    """Print an error the way every command does and exit with `status`."""
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)
    sys.exit(status)


# --- commands -------------------------------------------------------------------
# Each command lives below, in the order of the README. Keep bodies thin: the work
# belongs in the library modules.

# [commands:parse]

# [commands:price]

# [commands:serve]

# [commands:sweep]

# [commands:restore]

# [commands:report]

# [commands:compare]


def main(argv: list[str] | None = None) -> None:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="lambdabench", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LambdabenchError as exc:
        if debug:
            raise
        fail(exc.message, exc.hint, exc.exit_status)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(0)
