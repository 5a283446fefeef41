"""The conformance corpus: dump → load → compare on schemas nobody on the team wrote.

Django's own test-suite apps (from the sdist of the Django under test, fetched, not
committed), ``django.contrib``'s apps, and widely used third-party model packages. Each app
runs in its own process (:mod:`conformance.run_app`): a fresh project with the app, two freshly
migrated databases, rows made by model_bakery (seeded), ``dumpscript`` of the app, the script
loaded into the other database, and every field and relation of every row compared.

``python -m conformance`` (``nox -s conformance``) runs the corpus and prints the table.
"""
