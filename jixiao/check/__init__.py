"""Checking what was read: pandera schemas and cross-sheet rules, and the score rule sets."""
