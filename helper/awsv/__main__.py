"""Allow `python -m awsv`, which the tests and the installer's smoke check use."""

from awsv.cli import main

raise SystemExit(main())
