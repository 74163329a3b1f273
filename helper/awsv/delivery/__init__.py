"""Delivery: how temporary credentials reach the programs that use them.

For now this holds the local credential endpoint (`endpoint`: the HTTP
server; `renewal`: credentials that renew themselves ahead of expiry;
`served`: both wired to the sessions layer for one profile). The variables,
export formats and credential_process JSON still live in `awsv.environment`
and the command modules until the delivery layer is gathered here.

Imports point down only: commands use this package, this package uses
`awsv.sessions` and below, never a command module.
"""
