#!/usr/bin/env python3
"""Validates Compose files against the Compose specification's JSON schema (compose-spec.json).

Usage: validate.py FILE...   Prints one line per error (`FILE: path.to.key: message`).
Exit status: 0 valid, 1 invalid, 2 a file cannot be read, 3 jsonschema or PyYAML is missing.
"""
import json
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError as error:
    print(f"validate.py: {error}: install python3-jsonschema and python3-yaml (Debian)", file=sys.stderr)
    sys.exit(3)

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compose-spec.json")


def main(paths):
    with open(SCHEMA) as f:
        schema = json.load(f)
    # The schema declares draft 2019-09 (under a URL jsonschema does not know, so name it).
    validator = jsonschema.Draft201909Validator(schema)
    status = 0
    for path in paths:
        try:
            with open(path) as f:
                document = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as error:
            print(f"{path}: cannot read: {error}")
            return 2
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
            where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
            print(f"{path}: {where}: {error.message}")
            status = 1
    return status


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
