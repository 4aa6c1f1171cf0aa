#!/usr/bin/env python3
"""Adds up JUnit XML reports (ctest, pytest) into one closing line:
'tests: N passed, N failed, N skipped'. Exits 1 if anything failed or if
no test ran at all."""
import sys
import xml.etree.ElementTree as ET


def count(path):
    passed = failed = skipped = 0
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(paths):
    total = [0, 0, 0]
    for p in paths:
        try:
            c = count(p)
        except (OSError, ET.ParseError) as e:
            print(f"{p}: unreadable report ({e})")
            total[1] += 1
            continue
        print(f"{p}: {c[0]} passed, {c[1]} failed, {c[2]} skipped")
        total = [a + b for a, b in zip(total, c)]
    print(f"tests: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 0 if total[1] == 0 and total[0] > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
