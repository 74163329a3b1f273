"""Allow `python -m awsv`, which the tests and the installer's smoke check use."""

from awsv.entry import main

raise SystemExit(main())
