"""One line per distinct failure of a Schemathesis run, from its NDJSON report.

    python tests/contract/summarize.py REPORT.ndjson [--role NAME] [--curl]

Each line: the role (when given), the operation, the check, the status answered, the failure's
message (first line) and, with --curl, a short reproduction (method, URL, body)."""

from __future__ import annotations

import argparse
import base64
import json
import sys


def _body(interaction: dict) -> str:
    content = (interaction.get("response") or {}).get("content")
    if isinstance(content, dict) and "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
    return content or ""


def failures(path: str):
    seen = set()
    with open(path, encoding="utf-8") as events:
        for line in events:
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished or finished.get("status") != "failure":
                continue
            recorder = finished["recorder"]
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    info = (check.get("failure_info") or {}).get("failure", {})
                    case = (recorder["cases"].get(case_id) or {}).get("value", {})
                    interaction = recorder.get("interactions", {}).get(case_id) or {}
                    status = ((interaction.get("response") or {}).get("status_code"))
                    message = (info.get("message") or info.get("title") or "").strip().splitlines()
                    key = (info.get("operation") or recorder["label"], check["name"], status, message[0] if message else "")
                    if key in seen:
                        continue
                    seen.add(key)
                    yield key, finished.get("phase"), case, interaction


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--role", default="")
    parser.add_argument("--curl", action="store_true")
    args = parser.parse_args()
    count = 0
    for (operation, check, status, message), phase, case, interaction in failures(args.report):
        count += 1
        prefix = f"{args.role}: " if args.role else ""
        print(f"{prefix}{operation} | {check} | {status} | {phase} | {message}")
        if args.curl:
            request = interaction.get("request") or {}
            print(f"    {request.get('method')} {request.get('uri')}")
            if case.get("body") is not None:
                print(f"    body: {json.dumps(case.get('body'), ensure_ascii=False)[:300]}")
            meta = ((case.get("meta") or {}).get("phase") or {}).get("data") or {}
            if meta.get("description"):
                print(f"    scenario: {meta['description']}")
            print(f"    answer: {_body(interaction)[:300]}")
    print(f"{count} distinct failure(s)", file=sys.stderr)
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main())
