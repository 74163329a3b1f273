"""The vault agent: one per-user process that keeps the vault open between commands.

ssh-agent style, it does the work instead of handing out the key: it holds
the opened backend (the file vault with its derived key, or the keyring) and
answers get / set / delete / list over a Unix socket that only its own user
may use. The hot path (`awsv use`, credential_process) then needs no crypto,
no keyring and no passphrase.

Modules: `protocol` (framing, socket location, vault identity), `client`
(`AgentVault`, imported on every command, so it imports almost nothing),
`launch` (starting an agent and handing it the key), `server` (the agent
itself), `hardening` (no core dumps, no swap where allowed).

This file imports nothing on purpose: the client is on the hot path.
"""
