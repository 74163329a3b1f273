"""One module per group of subcommands; each function takes a Context and parsed args."""
