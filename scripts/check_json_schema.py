#!/usr/bin/python3
"""Validates JSON documents against a JSON Schema (draft 7) with Debian's
python3-jsonschema: `check_json_schema.py SCHEMA FILE...`. Exit 0 when all
are valid, 1 naming every violation (file, JSON path, message), 2 when a
file cannot be read or parsed. The tests of `lightning perf --json` and
examples/ci use it, so the schema in docs/schemas is what is checked."""
import json
import sys

import jsonschema


def main(argv):
    if len(argv) < 3:
        print("usage: check_json_schema.py SCHEMA FILE...", file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft7Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        print(f"{argv[1]}: bad schema: {e}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft7Validator(schema)
    bad = 0
    for path in argv[2:]:
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            print(f"{path}: {e}", file=sys.stderr)
            return 2
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            # A oneOf failure's own message repeats the whole instance; the
            # most specific error under it says what is wrong.
            if err.context:
                err = max(err.context, key=lambda e: len(list(e.absolute_path)))
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            print(f"{path}: {where}: {err.message[:300]}", file=sys.stderr)
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))
