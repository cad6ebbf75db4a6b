"""Fan-out of the consent-taps Meltano project on Dagster: one asset per (tap, partition)."""
