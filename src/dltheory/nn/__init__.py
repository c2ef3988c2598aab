"""Shared neural-network code: batched MLPs trained together as one model."""
