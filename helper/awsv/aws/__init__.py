"""Talking to AWS: one botocore client factory and one error mapping for every service.

botocore costs ~100 ms to import, and the hot paths (`awsv use` with a cached
session, credential_process) must not pay it, so it is imported inside the
functions of this package and nowhere else in awsv.

`clients`: the settings a user controls (endpoints, timeouts, retries, CA
bundle) and clients built from an isolated botocore session that reads
nothing of the user's own AWS setup. `errors`: every botocore failure turned
into one typed `AwsvError` of the calling service's family, one line naming
the step, never a traceback, a secret or a raw body. The services (`awsv.sts`,
`awsv.iam`, `awsv.federation`, `awsv.sso.api`, web identity in
`awsv.other_sources`) hold only their calls and their own error codes.
"""
