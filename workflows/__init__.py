"""Durable workflows: one per entity, the single writer of its state."""
