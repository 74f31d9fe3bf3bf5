"""The ``dlstat`` command line: ``fit``, ``predict`` and ``datasets``.

::

    dlstat fit "mpg ~ wt + hp" mtcars --hidden 8 --epochs 200 --save cars.dlstat
    dlstat predict cars.dlstat new_cars.csv --output predictions.csv
    dlstat datasets

DATA is a CSV file (``.csv``, also compressed as ``.csv.gz``; ``.tsv`` for tab-separated), a
Parquet file (``.parquet``, ``.pq``), ``-`` for CSV on standard input, or the name of a built-in
data set (``dlstat datasets``); an existing file wins over a data set of the same name.
A CSV whose first header cell is empty (as written by ``DataFrame.to_csv()`` or R's
``write.csv()``) has that column read as the row index, so it never becomes a predictor.

Every error dlstat raises on purpose (:class:`dlstat.DlstatError`), a missing or unreadable file
and a usage error print ``dlstat: error: <message>`` on stderr and exit with status 2, without a
traceback.  ``main(argv)`` returns the exit status, so it can be called in-process.

TensorFlow is imported only when ``fit`` trains; ``--help``, ``datasets`` and ``predict`` never
load it.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import DlstatError
from ..families import FAMILIES
from ..optimizer_table import OPTIMIZERS
from ..options import (
    CHOICE,
    CLI,
    COLUMN_OR_VECTOR,
    FLAG,
    WHOLE,
    WIDTHS,
    Option,
    option,
    options_for,
)
from ..results.fit import PREDICT_TYPES

PROG = "dlstat"
EXIT_ERROR = 2
__all__ = ["FAMILIES", "OPTIMIZERS", "PREDICT_TYPES", "build_parser", "main", "read_data"]

# Words a flag takes for None, besides "none".
_NONE_WORDS = {"batch_size": ("full", "all")}
_TRAINING = ("optimizer", "learning_rate", "learning_rate_decay", "batch_size", "epochs", "validation",
             "early_stopping", "na_action", "seed")  # the rest of the fit flags shape the model
_PARQUET_SUFFIXES = (".parquet", ".pq")
_TSV_SUFFIXES = (".tsv", ".tsv.gz", ".tsv.bz2", ".tsv.xz", ".tsv.zst", ".tab")


class CommandLineError(Exception):
    """A problem outside the library (a missing file, an unwritable output): exit status 2."""


# --------------------------------------------------------------------------------- parsing


def _hidden(text: str) -> tuple[int, ...]:
    """``"32,16"`` → ``(32, 16)``; ``""``, ``"0"`` or ``"none"`` → ``()`` (no hidden layer)."""
    stripped = text.strip().strip("()[]").strip()
    if stripped.lower() in ("", "0", "none"):
        return ()
    parts = [p.strip() for p in stripped.split(",")]
    if parts[-1] == "":  # a trailing comma, as in "(4,)"
        parts.pop()
    try:
        widths = tuple(int(p) for p in parts)
    except ValueError:
        widths = ()
    if not widths or any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive layer widths such as 32,16 (or \"\" or 0 for no "
            f"hidden layer); got {text!r}"
        )
    return widths


def _batch_size(text: str) -> int | None:
    """A whole number, or ``full`` (every training row in one batch)."""
    return _flag_type(option("batch_size", CLI))(text)


def _flag_type(opt: Option):
    """The argparse ``type`` of a table option: parse the text, then check it as dnn() does."""
    none_words = ("none", *_NONE_WORDS.get(opt.name, ()))

    def parse(text: str) -> Any:
        if opt.none_means and text.strip().lower() in none_words:
            return None
        try:
            value = _hidden(text) if opt.kind == WIDTHS else text if (
                opt.kind == COLUMN_OR_VECTOR) else int(text) if opt.kind == WHOLE else float(text)
            opt.check(value)
        except (ValueError, DlstatError) as exc:
            detail = exc if isinstance(exc, DlstatError) else f"got {text!r}"
            raise argparse.ArgumentTypeError(f"expected {opt.expects()}; {detail}") from None
        return value

    parse.__name__ = opt.kind  # argparse names the type in its messages
    return parse


def _add_fit_flags(fit: argparse.ArgumentParser) -> None:
    """One flag per option of the table that the CLI takes; left out, dnn()'s default applies."""
    groups = {"model": fit.add_argument_group("model"),
              "training": fit.add_argument_group("training")}
    for opt in options_for(CLI):
        flag = "--" + opt.name.replace("_", "-")
        group = groups["training" if opt.name in _TRAINING else "model"]
        default = opt.default
        shown = "none" if default is None else ",".join(map(str, default)) if isinstance(
            default, tuple) else default
        help_text = f"{opt.doc} (default: {opt.none_means if default is None else shown})"
        if opt.kind == FLAG:
            group.add_argument(flag, action="store_true", default=argparse.SUPPRESS,
                               help=help_text)
        elif opt.kind == CHOICE:
            group.add_argument(flag, choices=opt.allowed, default=argparse.SUPPRESS,
                               help=help_text)
        else:
            group.add_argument(flag, type=_flag_type(opt), default=argparse.SUPPRESS,
                               metavar=opt.metavar or "N", help=help_text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dlstat`` command (TensorFlow-free)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Neural networks with the habits of lm() and glm(), from the shell.",
        epilog="Run 'dlstat COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    data_help = ("a CSV or Parquet file ('-': CSV on standard input), or a built-in data set "
                 "name such as mtcars or iris (see 'dlstat datasets')")
    index_help = ("use this column of a CSV or Parquet file as the row index (default: an "
                  "unnamed first CSV column, as written by to_csv() or write.csv())")

    fit = commands.add_parser(
        "fit", help="fit a network and print its summary",
        description="Fit a network with dnn(FORMULA, DATA, ...) and print fit.summary(). "
                    "Options left out take dnn()'s defaults.",
    )
    fit.add_argument("formula", metavar="FORMULA",
                     help="an R-style formula, e.g. \"mpg ~ wt + hp + factor(cyl)\" or "
                          "\"Species ~ .\"")
    fit.add_argument("data", metavar="DATA", help=data_help)
    _add_fit_flags(fit)
    out = fit.add_argument_group("input and output")
    out.add_argument("--index-col", metavar="COLUMN", help=index_help)
    out.add_argument("--save", metavar="MODEL_PATH",
                     help="write the fitted model to this file (e.g. model.dlstat)")
    out.add_argument("-q", "--quiet", action="store_true",
                     help="no progress, warnings or messages: print only the summary")
    fit.set_defaults(handler=_cmd_fit)

    pred = commands.add_parser(
        "predict", help="predict from a saved model, as CSV",
        description="Load MODEL (written by 'dlstat fit --save' or fit.save()) and write its "
                    "predictions for DATA as CSV, keeping DATA's row index.",
    )
    pred.add_argument("model", metavar="MODEL", help="a model file")
    pred.add_argument("data", metavar="DATA", help=data_help)
    pred.add_argument("--type", choices=PREDICT_TYPES, default="response",
                      help="response (default; the mean), link (linear predictor), class "
                           "(predicted level), prob (class probabilities); a cox model: risk, "
                           "or survival with --times")
    pred.add_argument("--times", type=float, nargs="+", metavar="T", default=None,
                      help="the times of --type survival (a column per time)")
    pred.add_argument("--unseen", choices=option("unseen").allowed, default=None,
                      help="factor levels the model never saw: error, or an NA prediction "
                           "(default: as when fitted)")
    pred.add_argument("-o", "--output", metavar="PATH",
                      help="write the CSV here (default: standard output)")
    pred.add_argument("--index-col", metavar="COLUMN", help=index_help)
    pred.set_defaults(handler=_cmd_predict)

    ds = commands.add_parser("datasets", help="list the built-in data sets",
                             description="List the built-in data sets (R's datasets package).")
    ds.set_defaults(handler=_cmd_datasets)
    return parser


# ------------------------------------------------------------------------------------ data


def read_data(source: str, index_col: str | None = None, text_columns: Sequence[str] = ()):
    """DATA as a data frame: an existing CSV/Parquet file, else a built-in data set name.

    A CSV cell has no type: ``text_columns`` (a model's factors of text) are read as the text
    they hold, so that a factor whose levels look like numbers ("1", "2") stays one."""
    from .. import datasets

    if source == "-":
        return _read_file(sys.stdin, index_col, "<stdin>", text_columns)
    path = Path(source)
    if path.is_file():
        return _read_file(path, index_col, str(path), text_columns)
    if path.exists():
        raise CommandLineError(f"{source!r} is a directory, not a CSV or Parquet file.")
    if source in datasets.available():
        if index_col is not None:
            raise CommandLineError(f"--index-col applies to CSV and Parquet files, not to the "
                                   f"built-in data set {source!r}.")
        return datasets.load(source)
    if path.suffix or "/" in source or os.sep in source:
        raise CommandLineError(f"no such file: {source!r}.")
    try:
        datasets.load(source)
    except DlstatError as exc:
        raise CommandLineError(f"no file named {source!r}, and {exc}") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _read_file(path: Any, index_col: str | None, label: str, text_columns: Sequence[str] = ()):
    """Read a CSV/TSV/Parquet file (chosen by its suffix; a stream is CSV)."""
    import pandas as pd

    name = label.lower()
    try:
        if name.endswith(_PARQUET_SUFFIXES):
            frame = pd.read_parquet(path)
        else:
            sep = "\t" if name.endswith(_TSV_SUFFIXES) else ","
            frame = pd.read_csv(path, sep=sep, dtype={c: str for c in text_columns} or None)
            first = str(frame.columns[0]) if len(frame.columns) else None
            if index_col is None and first is not None and (
                    first == "" or first.startswith("Unnamed: 0")):
                frame = frame.set_index(frame.columns[0])
                frame.index.name = None
    except ImportError as exc:
        raise CommandLineError(f"reading Parquet file {label!r} needs pyarrow "
                               f"(pip install pyarrow): {exc}") from None
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise CommandLineError(f"cannot read {label!r}: {exc}") from None
    if index_col is not None:
        if index_col not in frame.columns:
            columns = [str(c) for c in frame.columns]
            raise CommandLineError(f"--index-col {index_col!r} is not a column of "
                                   f"{label!r}; its columns are {columns}.")
        frame = frame.set_index(index_col)
    return frame


# -------------------------------------------------------------------------------- commands


def _cmd_fit(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {o.name: getattr(args, o.name) for o in options_for(CLI)
                               if hasattr(args, o.name)}
    options["verbose"] = 0 if args.quiet else 1
    if args.save is not None:  # checked before training, not after
        from ..results.archive import writable_target

        writable_target(args.save, probe=True)
    data = read_data(args.data, args.index_col)
    # TensorFlow's C++ start-up messages are noise on a command line (a user's setting wins).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3" if args.quiet else "2")
    from ..fitting.dnn import dnn

    with warnings.catch_warnings():
        if args.quiet:
            warnings.simplefilter("ignore")
        fit = dnn(args.formula, data, **options)
    print(fit.summary())
    if args.save is not None:
        fit.save(args.save)  # atomic: a failure leaves a file already there unchanged
        if not args.quiet:
            print(f"{PROG}: model saved to {args.save}", file=sys.stderr)
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from ..results.fit import load

    fit = load(args.model)
    text = [column for column, kind in fit.spec.kinds.items() if kind == "text"]
    data = read_data(args.data, args.index_col, text)
    pred = fit.predict(data, type=args.type, unseen=args.unseen, times=args.times)
    frame = pred.to_frame() if hasattr(pred, "to_frame") else pred
    if args.output is None or args.output == "-":
        frame.to_csv(sys.stdout)
        return 0
    try:
        frame.to_csv(args.output)
    except OSError as exc:
        raise CommandLineError(f"cannot write {args.output!r}: {exc}") from None
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    from .. import datasets

    for name in datasets.available():
        print(datasets.describe(name))
    return 0


# ------------------------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dlstat`` command with ``argv`` (default ``sys.argv[1:]``); return the exit
    status: 0 on success, 2 on a usage error or any error dlstat reports."""
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    try:
        return args.handler(args)
    except (DlstatError, CommandLineError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. 'dlstat predict ... | head': not an error
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
