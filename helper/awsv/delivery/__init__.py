"""Delivery: how temporary credentials reach the programs that use them.

`resolve`: a profile's credentials, with the one warning about long-term keys;
`shell`: the change map ("set these, unset those"), its shell code and the
confirmation line; `process`: the credential_process JSON document; the local
credential endpoint (`endpoint`: the HTTP server; `renewal`: credentials that
renew themselves ahead of expiry; `served`: both wired to the sessions layer
for one profile). The variables themselves are `awsv.environment`'s.

Imports point down only (tests/test_layers.py): the commands and the agent use
this package, this package uses `awsv.sessions` and below, never a command.
"""
