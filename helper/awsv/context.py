"""The world a command runs in: environment, streams, and lazily opened resources.

Commands take a Context instead of reaching for os.environ or sys.stdout, so
tests (and the future agent) can hand them another world, and so the vault
is opened — and the passphrase asked — only by commands that need it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO

from awsv.config import AwsConfig
from awsv.vault.base import Vault


@dataclass
class Context:
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stdin: TextIO = sys.stdin
    stdout: TextIO = sys.stdout
    stderr: TextIO = sys.stderr
    backend_flag: str | None = None
    _config: AwsConfig | None = None
    _vault: Vault | None = None

    @classmethod
    def with_open_vault(cls, vault: Vault, env: Mapping[str, str], *, config: AwsConfig | None = None) -> Context:
        """A context on a vault that is already open (the agent's): nothing is asked or opened.

        `config`, when given, is an already parsed AWS config for `env`.
        """
        ctx = cls(env=env)
        ctx._vault = vault
        ctx._config = config
        return ctx

    @property
    def config(self) -> AwsConfig:
        """The AWS config file, parsed once per command."""
        if self._config is None:
            self._config = AwsConfig.load(self.env)
        return self._config

    @property
    def backend(self) -> str:
        from awsv.settings import choose_backend

        return choose_backend(self.backend_flag, self.env)

    @property
    def vault(self) -> Vault:
        """The chosen vault: served by this user's agent when it holds it, else opened here.

        Through the agent nothing is asked and no crypto or keyring is imported.
        Opened here, the file backend asks for its passphrase only on first real
        use, and then hands the key to a new agent (AWSV_AGENT, see awsv.agent.launch).
        """
        if self._vault is None:
            from awsv.agent.client import connect

            backend = self.backend
            vault: Vault | None = connect(self.env, backend, warn=self.warn)
            if vault is None:
                from awsv.agent.launch import open_vault_directly

                vault = open_vault_directly(backend, self.env, warn=self.warn)
            self._vault = vault
        return self._vault

    def info(self, message: str) -> None:
        """A message for the user: stderr, never stdout (stdout is a protocol)."""
        print(f"awsv: {message}", file=self.stderr)

    def warn(self, message: str) -> None:
        print(f"awsv: warning: {message}", file=self.stderr)
