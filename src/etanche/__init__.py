"""Étanche: the encrypted, audited patient-data system of a lab network."""

__version__ = "0.1.0"
