"""`itilflow definitions validate|diagram|schema|list`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from definitions.diagram import to_mermaid
from definitions.loader import library_files, load_file
from definitions.schema import json_schema_text


def _validate(args: argparse.Namespace) -> int:
    files = [Path(f) for f in args.files] or library_files()
    failed = 0
    for path in files:
        try:
            result = load_file(path)
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            failed += 1
            continue
        if result.ok:
            assert result.definition is not None
            print(
                f"{path}: ok ({result.definition.key}, {len(result.definition.states)} states, "
                f"{len(result.definition.transitions)} transitions)"
            )
        else:
            failed += 1
            for issue in result.issues:
                print(f"{path}: {issue}", file=sys.stderr)
    return 1 if failed else 0


def _diagram(args: argparse.Namespace) -> int:
    result = load_file(Path(args.file))
    if not result.ok or result.definition is None:
        for issue in result.issues:
            print(f"{args.file}: {issue}", file=sys.stderr)
        return 1
    text = to_mermaid(result.definition, lang=args.lang, current=args.highlight)
    if args.markdown:
        text = "```mermaid\n" + text + "```\n"
    sys.stdout.write(text)
    return 0


def _schema(args: argparse.Namespace) -> int:
    text = json_schema_text()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("definitions", help="validate, diagram and describe process definitions")
    dsub = parser.add_subparsers(dest="definitions_command", metavar="ACTION", required=True)
    p = dsub.add_parser("validate", help="check definitions; every problem is printed with its path")
    p.add_argument("files", nargs="*", help="YAML files (default: the shipped library)")
    p.set_defaults(func=_validate)
    p = dsub.add_parser("diagram", help="print a Mermaid state diagram")
    p.add_argument("file")
    p.add_argument("--lang", default="en", choices=["en", "zh"])
    p.add_argument("--highlight", help="state to highlight")
    p.add_argument("--markdown", action="store_true", help="wrap in a ```mermaid block")
    p.set_defaults(func=_diagram)
    p = dsub.add_parser("schema", help="print the JSON Schema of the definition language")
    p.add_argument("--output", "-o")
    p.set_defaults(func=_schema)
