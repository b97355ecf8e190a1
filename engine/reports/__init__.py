"""Weekly reports: what the team did, how the model changed, how customers feel.

``figures`` holds the report as data (what the adapters render), ``content`` computes it from the
store, ``chart`` draws its PNG, ``service`` builds, claims and posts reports (import it from there:
this package imports nothing, so ``engine.types`` can name a ``WeeklyReport``).
"""
