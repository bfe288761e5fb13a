"""Identity check of the customer import between two versions of the code.

    python bench/import_hashes.py FILE URL [FILE ...]

Imports each FILE in turn into the database at URL (migrated first; the customers table must
be empty or absent) with whichever `outages` package comes first on sys.path (set
PYTHONPATH to a checkout of another version), then prints one JSON line per import (its
counts, the rejects file's sha256, the reasons sampled) and one with a sha256 per column of
the customers table, rows in id order. created_at and updated_at are the time of the import,
so they are left out. Run it with two versions and compare the output.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from outages import db
from outages.registry.importer import import_customers
from outages.settings import load_settings

TIMES = ("created_at", "updated_at")


def main(files: list[str], url: str) -> None:
    import outages

    print(json.dumps({"outages": outages.__file__}))
    settings = load_settings(environ={"OUTAGES_DATABASE_URL": url})
    engine = db.make_engine(url)
    db.upgrade(engine)
    for name in files:
        path = Path(name)
        rejects = path.with_name(f"{path.stem}.{time.time_ns()}.rejects.csv")
        try:
            result = import_customers(engine, settings, path, rejects_path=rejects)
        except Exception as exc:
            print(json.dumps({"file": name, "error": f"{type(exc).__name__}: {exc}"}))
            continue
        digest = hashlib.sha256(rejects.read_bytes()).hexdigest() if rejects.exists() else None
        print(json.dumps({"file": name, **result.as_json(), "rejects_file": None,
                          "rejects_sha256": digest, "samples": result.samples}), flush=True)
        rejects.unlink(missing_ok=True)
    with engine.connect() as conn:
        driver: Any = conn.connection.dbapi_connection
        cursor = driver.cursor()
        cursor.execute("SELECT * FROM customers ORDER BY id")
        names = [d[0] for d in cursor.description]
        hashes = {n: hashlib.sha256() for n in names if n not in TIMES}
        count = 0
        while rows := cursor.fetchmany(50_000):
            count += len(rows)
            for n, values in zip(names, zip(*rows, strict=True), strict=True):
                if n in hashes:
                    hashes[n].update("\x1e".join(map(_text, values)).encode() + b"\x1e")
    print(json.dumps({"rows": count, **{n: h.hexdigest()[:16] for n, h in hashes.items()}}))
    engine.dispose()


def _text(value: Any) -> str:
    """Exact text of a stored value: floats in hex, so two that differ in the last bit do."""
    if isinstance(value, float):
        return value.hex()
    return repr(value)


if __name__ == "__main__":
    main(sys.argv[1:-1], sys.argv[-1])
