"""Benchmark: the overdue list's CSV and XLSX exports over many rows, without a database.

    python bench/exports.py [--rows 100000 435000] [--formats csv xlsx]

Builds the overdue sheet the API builds (`ROW_COLUMNS` of tracker/api/reports.py, the rows shaped
like `tracker.services.reports.overdue_row`: Vietnamese task titles, unit and owner names taken from
the bundled Kim Động plan, dates, moments and codes), streams N synthetic rows through
`csv_lines` and `write_xlsx`, and prints rows per second and the growth of peak RSS (VmHWM over the
RSS before the export). Each (format, N) runs in a child process of its own so that one export's
peak does not hide the next one's. The rows are made one at a time as the writer reads them, as the
database cursor hands them over, so the memory measured is the writer's. "rows/s" is wall-clock
time and counts making the rows; "writer" is the writer alone, by CPU time (the rows are made once
more beforehand, untimed by the export, to subtract their CPU time): on a shared, busy machine the
CPU figure is the steadier one. Figures are information, not tests; the targets of the "national
scale" issue are checked on the wall-clock figures and printed beside them.

Measured on the 2-core development machine with other test runs sharing it (wall-clock rows/s,
making the rows included; growth of peak RSS):

| export             | before (openpyxl write-only; csv_value per cell) | after (XlsxWriter, encoded rows; row makers) |
| ------------------ | ------------------------------------------------ | -------------------------------------------- |
| CSV, 100,000 rows  | 47,000 rows/s, 1.5 MiB                           | 44,000-80,000 rows/s, 1 MiB                  |
| CSV, 435,000 rows  | 41,000 rows/s, 1.6 MiB                           | 56,000-74,000 rows/s, 1 MiB                  |
| XLSX, 100,000 rows | 850 rows/s (118 s), 0.1 MiB                      | 18,900-25,700 rows/s, 2 MiB                  |
| XLSX, 435,000 rows | 950 rows/s (459 s), 0.1 MiB                      | 21,400-23,500 rows/s (18.5-20.3 s), 2 MiB    |

The writer's own CPU time gives 90,000-137,000 rows/s for CSV and 26,000-32,000 for XLSX, about
half of the latter in compressing and copying the 460 MiB of sheet XML of 435,000 rows (XlsxWriter
keeps it in temporary files: about 1 GiB of temporary disk at the peak).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 11, 24)
TITLE = "Danh sách nhiệm vụ chưa hoàn thành, quá hạn"  # as tracker/api/reports.py titles the overdue export
ZONE = "Asia/Ho_Chi_Minh"
TARGETS = {"csv": (50_000, None), "xlsx": (20_000, 100)}  # rows/s at least, peak RSS growth (MiB) below
GUNICORN_TIMEOUT = 30  # seconds, gunicorn's default worker timeout
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
GIVEN = ["Văn An", "Thị Bình", "Đức Cường", "Thu Hằng", "Minh Khôi", "Ngọc Lan", "Quốc Việt", "Thị Ngân"]
STATUSES = ["not_started", "in_progress", "submitted", "returned"]


def _plan() -> tuple[list[dict], list[dict]]:
    """(actions with their group number, organisations) of the bundled plan."""
    with open(ROOT / "tracker" / "data" / "plans" / "kim-dong-nq57.yaml", encoding="utf-8") as handle:
        plan = yaml.safe_load(handle)
    actions = [{**action, "group": group["number"]} for group in plan["groups"] for action in group["actions"]]
    actions += [{**duty, "group": None} for duty in plan.get("duties", [])]
    return actions, plan["organizations"]


def fresh(text: str) -> str:
    """A new string object equal to `text`, as a database driver makes one for each row (so that a
    writer that hashes texts pays for it as it would in service)."""
    return text.encode().decode()


def synthetic_rows(count: int):
    """`count` rows with the keys and value types of `overdue_row` (assignment, action, unit and its
    parent named as on the day, owner, dates, status, progress, last update), made one at a time."""
    actions, organizations = _plan()
    names = {org["code"]: org["name"] for org in organizations}
    units = [(org["code"], org["name"], names.get(org["parent"])) for org in organizations]
    owners = [f"{s} {g}" for s, g in itertools.product(SURNAMES, GIVEN)]
    start = dt.date(2025, 1, 1)
    updated = dt.datetime(2026, 1, 1, 1, 2, 3)
    for i in range(1, count + 1):
        action = actions[i % len(actions)]
        code, unit, parent = units[i % len(units)]
        owner = owners[i % len(owners)] if i % 7 else None
        due = start + dt.timedelta(days=(i * 7919) % 690)
        original = due - dt.timedelta(days=30) if i % 5 == 0 else due
        yield {
            "assignment_id": i, "plan_id": 1, "plan_code": "KH-NQ57/HU", "group_number": action["group"],
            "group_title": None, "action_ref": fresh(action["ref"]), "action_title": fresh(action["title"]),
            "action_text": action["text"], "organization_id": i % len(units) + 1, "organization_code": code,
            "organization_name": fresh(unit), "parent_organization_id": 1 if parent else None,
            "parent_organization_name": fresh(parent) if parent else None,
            "role": "lead" if i % 3 else "coordinating", "cycle": 2026,
            "owner_id": i % 80 if owner else None, "owner_name": fresh(owner) if owner else None,
            "owner_phone": f"09{i % 100_000_000:08d}" if owner else None,
            "owner_email": f"canbo{i % 997}@kimdong.hungyen.gov.vn" if owner else None,
            "original_due_date": original, "due_date": due, "status": STATUSES[i % len(STATUSES)], "progress": (i * 13) % 100,
            "submitted_on": None, "completed_on": None, "last_updated_at": updated + dt.timedelta(minutes=i),
            "days_overdue": (AS_OF - due).days, "extended": due != original,
        }


def memory_kib(pid: int | str = "self") -> dict[str, int]:
    """A process's resident set size and its peak since the last reset (VmRSS, VmHWM), in KiB."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields


def reset_peak(pid: int | str = "self") -> bool:
    """Set a process's VmHWM back to its current RSS (Linux clear_refs 5); False where not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as control:
            control.write("5")
        return True
    except OSError:
        return False


def run_one(fmt: str, rows: int) -> dict:
    """One export in this process: seconds (wall and CPU), output size, RSS before and peak RSS
    during it; and the seconds that making the rows alone takes, to tell the writer's share."""
    from zoneinfo import ZoneInfo

    from tracker.api.reports import ROW_COLUMNS
    from tracker.documents.csv_file import csv_lines
    from tracker.documents.sheets import Sheet
    from tracker.documents.xlsx import write_xlsx

    zone = ZoneInfo(ZONE)
    # Warm every code path on a few rows, so that imports and first-call costs are not counted.
    warm = [Sheet("Quá hạn", ROW_COLUMNS, synthetic_rows(50))]
    if fmt == "csv":
        b"".join(csv_lines(warm, zone))
    else:
        os.remove(write_xlsx(warm, TITLE, AS_OF, zone))
    started, cpu = time.perf_counter(), time.process_time()
    for _ in synthetic_rows(rows):
        pass
    making = {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu}

    sheets = [Sheet("Quá hạn", ROW_COLUMNS, synthetic_rows(rows))]
    reset = reset_peak()
    before = memory_kib()
    started, cpu = time.perf_counter(), time.process_time()
    if fmt == "csv":
        size = sum(len(chunk) for chunk in csv_lines(sheets, zone))  # as a streamed response consumes it
    else:
        path = write_xlsx(sheets, TITLE, AS_OF, zone)
        size = os.path.getsize(path)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    after = memory_kib()
    if fmt == "xlsx":
        os.remove(path)
    peak = after["VmHWM"] if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"format": fmt, "rows": rows, "seconds": seconds, "cpu_seconds": cpu_seconds, "making_rows": making,
            "bytes": size, "rss_before_kib": before["VmRSS"], "peak_kib": peak, "growth_mib": (peak - before["VmRSS"]) / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 435_000])
    parser.add_argument("--formats", nargs="+", choices=["csv", "xlsx"], default=["csv", "xlsx"])
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child[0], int(args.child[1]))))
        return 0

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; rows/s counts making the rows, "
          "'writer' the writer's CPU time alone")
    print(f"{'format':<6} {'rows':>7} {'wall s':>7} {'CPU s':>6} {'rows/s':>7} {'writer':>7} {'MiB out':>7} "
          f"{'RSS MiB':>7} {'growth':>6}  target")
    failed = False
    for rows in args.rows:
        for fmt in args.formats:
            child = subprocess.run([sys.executable, __file__, "--child", fmt, str(rows)], capture_output=True, text=True,
                                   check=False, cwd=ROOT)
            if child.returncode != 0:
                print(child.stderr, file=sys.stderr)
                return child.returncode
            result = json.loads(child.stdout.strip().splitlines()[-1])
            rate = result["rows"] / result["seconds"]
            writer = result["rows"] / max(result["cpu_seconds"] - result["making_rows"]["cpu"], 1e-9)
            least, most = TARGETS[fmt]
            met = rate >= least and (most is None or result["growth_mib"] < most)
            if fmt == "xlsx":
                met = met and result["seconds"] < GUNICORN_TIMEOUT
            failed = failed or not met
            target = f">= {least:,} rows/s" + (f", < {most} MiB, < {GUNICORN_TIMEOUT} s" if most else "")
            print(f"{fmt:<6} {rows:>7} {result['seconds']:>7.2f} {result['cpu_seconds']:>6.2f} {rate:>7,.0f} {writer:>7,.0f} "
                  f"{result['bytes'] / 2**20:>7.1f} {result['rss_before_kib'] / 1024:>7.0f} {result['growth_mib']:>6.1f}  "
                  f"{target}: {'met' if met else 'MISSED'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
