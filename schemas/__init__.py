"""The JSON Schemas of the desired-state kinds, installed as package data `reconciler.schemas`."""
