"""Subcommands beyond run/report/stages: one module each, with ``add_parser(subparsers)``.

A module sets ``fn`` on its parser (``parser.set_defaults(fn=...)``); ``fn(args) -> int`` is
the exit code. Raise curate.errors.CurateError for anything the user should read.
"""
