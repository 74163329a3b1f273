"""One module per command (or small group of commands); each function takes a Context and parsed args.

`COMMANDS` is the registry: adding a command is writing its module, with
`register(sub)` adding its argparse subparser and setting `func(ctx, args)
-> int`, and naming the module here. The order is the order `awsv --help`
lists the commands in. The table is plain data (module names, no imports),
so the hot path, which registers only the one command it runs
(`awsv.cli.FAST_COMMANDS`), pays nothing for the others.

`HELPERS` are the modules here that register no command: code one command
keeps beside itself. `tests/test_registry.py` checks that every module of
this package is in exactly one of the two tables.
"""

#: Command modules, in `awsv --help` order; each has `register(sub)`.
COMMANDS: tuple[str, ...] = (
    "add",
    "list_",
    "import_",
    "use",
    "exec_",
    "serve",
    "export",
    "whoami",
    "clear",
    "unlock",
    "doctor",
    "shell_init",
    "login",
    "rotate",
    "sso",
    "pick",
)

#: Modules that register nothing: `exec_server` holds exec's --server and --min-ttl.
HELPERS: tuple[str, ...] = ("exec_server",)
