"""The streak tests share the rewards tests' after-each-test ledger check."""

from tests.rewards.conftest import _ledger_stays_balanced, corrupt_ledger_allowed

__all__ = ["_ledger_stays_balanced", "corrupt_ledger_allowed"]
