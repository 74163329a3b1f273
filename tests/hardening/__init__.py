"""The hardening suite: hostile input at CI size, or at full size via `scripts/hardening --full`."""
