"""Patients' consents: what each allows, for which purposes and categories, until when."""
