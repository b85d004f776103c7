from kit_fixtures import db  # noqa: F401  (the fixture the kit's tests share)
