"""awsv: a secure AWS credentials manager for the terminal.

Importing the package must stay cheap: the hot paths (`use`, `export`,
credential_process) load only what they need, so nothing heavy is imported here.
"""

__version__ = "0.1.0"
