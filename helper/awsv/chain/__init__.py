"""Resolving a profile into the steps that produce its credentials.

A chain is: one *source* (a long-term key in the vault, a
`credential_process`, an SSO role, a web identity, or the environment's
credentials), then zero or more *role hops* (AssumeRole), applied in order.
The sessions layer turns a chain into STS calls; keeping the resolution
pure (no vault, no network) lets `doctor`, `list` and the tests reason
about chains without unlocking anything.

MFA rule (written down in the README): a source with `mfa_serial` gets one
MFA-authenticated session (GetSessionToken) and every role hanging off it is
assumed from that session, so the code is asked once per source session. A
role's own `mfa_serial`, when it differs from the source's, is sent with that
role's AssumeRole, as botocore does.

`model` holds the types, `sources` what each profile's source is, `walk`
the following of source_profile (`resolve`, `Resolver`).
"""

from awsv.chain.model import CREDENTIAL_SOURCES, MAX_CHAIN_DEPTH, SSO_KEYS, Chain, RoleHop, SelfReference, Source
from awsv.chain.walk import Resolver, resolve

__all__ = [
    "CREDENTIAL_SOURCES",
    "MAX_CHAIN_DEPTH",
    "SSO_KEYS",
    "Chain",
    "Resolver",
    "RoleHop",
    "SelfReference",
    "Source",
    "resolve",
]
