"""Example hook for scenarios/hooks_demo.toml: a scratch "table" of one file per pending invocation.

    fixture.py reset    before_config: empty the table for this configuration
    fixture.py insert   before_each: add the row the invocation will read
    fixture.py check    after_each: fail (exit 1) unless the invocation was ok; delete its row

It reads the hook's JSON document on stdin, as every command hook does.
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path


def main() -> int:
    action = sys.argv[1]
    doc = json.load(sys.stdin)
    table = Path(tempfile.gettempdir()) / f"lambdabench-{doc['scenario']['name']}-table"
    if action == "reset":
        shutil.rmtree(table, ignore_errors=True)
        table.mkdir(parents=True)
        return 0
    row = table / doc["invocation"]["invocation_id"].replace("/", "_")
    if action == "insert":
        row.write_text(json.dumps(doc["payload"]))
        return 0
    record = doc["record"]
    row.unlink(missing_ok=True)
    if record["status"] != "ok":
        print(f"{record['invocation_id']}: status {record['status']} ({record['error_type']})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
