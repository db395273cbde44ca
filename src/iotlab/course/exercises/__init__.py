"""Exercises, one module per notebook: each exercise's reference solution and its check side by side."""
