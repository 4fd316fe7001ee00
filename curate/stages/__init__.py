"""Stages: one module per algorithm, registered by the name used in pipeline YAML."""
