"""IAM Identity Center (SSO): settings, the OIDC and portal calls, tokens, sign-in, sync.

One idea per module:

- `settings`: which SSO session and role a profile names, as botocore reads the config;
- `api`: the SSO OIDC and portal calls (the only SSO module that talks to AWS, through `awsv.aws`);
- `tokens`: tokens and client registrations as vault items, and the AWS CLI's cache;
- `signin`: the authorization-code (PKCE) and device-code flows;
- `flight`: one valid token per SSO session: stored, refreshed, imported or signed in,
  once across every process (the single-flight lock);
- `sync`: profiles generated from the accounts and roles the user can reach.

Nothing here is imported on the hot path: a cached role session is served by
the session cache like any other, and this package is loaded only to fetch new
role credentials.
"""
