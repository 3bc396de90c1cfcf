#!/usr/bin/env python3
"""Upload throughput against its floor, in one durability mode (README, "Durability").

Starts `quadrat serve --no-rate-limits --durability MODE` on a fresh data directory (the
tree-survey fixture imported), drives `POST /api/upload/{slug}` from N keep-alive clients (one
process each) for some seconds, then measures the floor: one-row INSERT transactions of the same
entry rows straight into the engine, and prints both with their ratio. On SQLite (the default)
the floor is Python's sqlite3 on the same filesystem, WAL, the mode's `synchronous` (FULL for
safe, NORMAL for relaxed); with `--postgres URL` (a server URL; a scratch database is created
and dropped) it is `psql` running one `BEGIN; INSERT; COMMIT` after another, with the server's
own `synchronous_commit`.

    cargo build --release -p quadrat
    scripts/upload_rate.py --bin target/release/quadrat --mode safe --clients 8 --seconds 10
    scripts/upload_rate.py --postgres postgres://postgres@127.0.0.1:5432/postgres

Only loopback, only the standard library. The machine's other load shows in the figures: run
each mode more than once and quote the median.
"""

import argparse
import datetime
import http.client
import json
import multiprocessing
import os
import pathlib
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "crates/quadrat-core/tests/fixtures/tree-survey-2024.json"
SLUG = "tree-survey-2024"
P = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50"
SITES = P + "_665b0c3e1a2f4"
A = SITES + "_"


def site(version, entry_uuid, name):
    """The worked example's site (docs/protocol.md §16.3) under a new uuid and name."""
    answers = {
        A + "665b0c41b2c01": name,
        A + "665b0c4a3d902": "37",
        A + "665b0c52e8a13": "2024-06-03T00:00:00.000",
        A + "665b0c5b1f224": "665b0c5f0a1b5",
        A + "665b0c63c4d35": ["665b0c66a7e01", "665b0c66a7e03"],
        A + "665b0c6e9b446": {"latitude": 51.4987654321, "longitude": -0.1748765432, "accuracy": 6.5},
        A + "665b0c7750557": "",
        A + "665b0c7f2a668": "",
        A + "665b0c96d7e79": "",
        A + "665b0c96d7e79_665b0ca0c3d01": "14.5",
        A + "665b0c96d7e79_665b0ca6e4f02": "665b0cab10a12",
    }
    return {
        "type": "entry",
        "id": entry_uuid,
        "attributes": {"form": {"ref": SITES, "type": "hierarchy"}},
        "relationships": {"parent": {}, "branch": {}},
        "entry": {
            "entry_uuid": entry_uuid,
            "created_at": "2024-06-03T09:15:27.412Z",
            "device_id": "3f2a9c1e7b6d5a40",
            "platform": "Android",
            "title": name,
            "answers": {k: {"answer": v, "was_jumped": False} for k, v in answers.items()},
            "project_version": version,
        },
    }


def client(port, version, seconds, start_at, out):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    while time.time() < start_at:
        time.sleep(0.001)
    done, failed = 0, 0
    end = start_at + seconds
    while time.time() < end:
        u = str(uuid.uuid4())
        body = json.dumps({"data": site(version, u, "Site " + u[:8])})
        conn.request("POST", f"/api/upload/{SLUG}", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        text = response.read()
        if response.status == 200 and b"ec5_237" in text:
            done += 1
        else:
            failed += 1
    out.put((done, failed))


def floor(directory, mode, rows, seconds):
    """One-row INSERT transactions of entry rows like the server's, as fast as SQLite takes them."""
    db = sqlite3.connect(directory / "floor.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={'FULL' if mode == 'safe' else 'NORMAL'}")
    db.execute(
        "CREATE TABLE entries (id INTEGER PRIMARY KEY, project_id INTEGER, uuid TEXT UNIQUE, "
        "parent_uuid TEXT, form_ref TEXT, parent_form_ref TEXT, user_id INTEGER, platform TEXT, "
        "device_id TEXT, created_at INTEGER, uploaded_at INTEGER, title TEXT, entry_data TEXT, "
        "geo_json_data TEXT, child_counts INTEGER, branch_counts TEXT)"
    )
    n, end = 0, time.time() + seconds
    while time.time() < end:
        row = rows[n % len(rows)]
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO entries (project_id, uuid, parent_uuid, form_ref, parent_form_ref, "
            "user_id, platform, device_id, created_at, uploaded_at, title, entry_data, "
            "geo_json_data, child_counts, branch_counts) "
            "VALUES (1, ?, '', ?, '', 0, 'Android', 'x', 0, 0, ?, ?, ?, 0, ?)",
            (str(uuid.uuid4()),) + row,
        )
        db.execute("COMMIT")
        n += 1
    db.close()
    return n / seconds


def pg_floor(url, rows, seconds):
    """`psql -f` over one-row transactions: as many as it does in about `seconds`."""
    create = ("CREATE TABLE floor_entries (id BIGSERIAL PRIMARY KEY, uuid TEXT UNIQUE, "
              "form_ref TEXT, title TEXT, entry_data TEXT, geo_json_data TEXT)")
    subprocess.run(["psql", "-q", "-X", url, "-c", create], check=True)

    def run(n):
        lines = []
        for i in range(n):
            form_ref, title, data, geo = rows[i % len(rows)][:4]
            q = lambda v: "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"
            lines.append(
                "BEGIN; INSERT INTO floor_entries (uuid, form_ref, title, entry_data, "
                f"geo_json_data) VALUES ('{uuid.uuid4()}', {q(form_ref)}, {q(title)}, "
                f"{q(data)}, {q(geo)}); COMMIT;")
        with tempfile.NamedTemporaryFile("w", suffix=".sql") as f:
            f.write("\n".join(lines))
            f.flush()
            t = time.time()
            subprocess.run(["psql", "-q", "-X", url, "-f", f.name], check=True,
                           stdout=subprocess.DEVNULL)
            return time.time() - t

    probe = run(200)
    n = max(200, int(200 * seconds / max(probe, 0.001)))
    return n / run(n)


def psql_value(url, sql):
    out = subprocess.run(["psql", "-At", "-X", url, "-c", sql], check=True, capture_output=True,
                         text=True)
    return out.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(ROOT / "target/release/quadrat"))
    ap.add_argument("--mode", choices=["safe", "relaxed"], default="safe")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--dir", help="where the data directory goes (default: a temporary one)")
    ap.add_argument("--postgres", metavar="URL",
                    help="measure on PostgreSQL: a server URL (a scratch database is made)")
    args = ap.parse_args()
    pg_url = None
    if args.postgres:
        name = f"quadrat_rate_{os.getpid()}"
        subprocess.run(["psql", "-q", "-X", args.postgres, "-c", f"CREATE DATABASE {name}"],
                       check=True)
        pg_url = args.postgres.rsplit("/", 1)[0] + "/" + name
    try:
        measure(args, pg_url)
    finally:
        if pg_url:
            subprocess.run(["psql", "-q", "-X", args.postgres, "-c",
                            f"DROP DATABASE {name} WITH (FORCE)"], check=False)


def measure(args, pg_url):
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = pathlib.Path(tmp)
        data = tmp / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUADRAT_")}
        env["QUADRAT_DATA_DIR"] = str(data)
        env["QUADRAT_LOG"] = "warn,quadrat=info"
        if pg_url:
            env["QUADRAT_DATABASE_URL"] = pg_url
        subprocess.run([args.bin, "project", "import", str(FIXTURE)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        server = subprocess.Popen(
            [args.bin, "serve", "--listen", "127.0.0.1:0", "--no-rate-limits",
             "--durability", args.mode],
            env=env, stderr=subprocess.PIPE, text=True)
        try:
            port = None
            for line in server.stderr:
                if "listening on http://" in line:
                    port = int(line.split("listening on http://")[1].split()[0].rsplit(":", 1)[1])
                    break
            if port is None:
                sys.exit("the server did not start")
            if pg_url:
                updated = int(psql_value(pg_url, "SELECT updated_at FROM project_structures"))
            else:
                db = sqlite3.connect(data / "quadrat.sqlite")
                (updated,) = db.execute("SELECT updated_at FROM project_structures").fetchone()
                db.close()
            version = datetime.datetime.fromtimestamp(updated / 1000, datetime.timezone.utc)
            version = version.strftime("%Y-%m-%d %H:%M:%S")

            out = multiprocessing.Queue()
            start_at = time.time() + 0.5
            procs = [multiprocessing.Process(target=client,
                                             args=(port, version, args.seconds, start_at, out))
                     for _ in range(args.clients)]
            for p in procs:
                p.start()
            results = [out.get() for _ in procs]
            for p in procs:
                p.join()
            done = sum(r[0] for r in results)
            failed = sum(r[1] for r in results)
            if pg_url:
                stored = int(psql_value(pg_url, "SELECT count(*) FROM entries"))
                rows = [(SITES, "Site", json.dumps(site(version, str(uuid.uuid4()), "Site")),
                         None, None)]
            else:
                db = sqlite3.connect(data / "quadrat.sqlite")
                rows = db.execute(
                    "SELECT form_ref, title, entry_data, geo_json_data, branch_counts "
                    "FROM entries LIMIT 1000").fetchall()
                (stored,) = db.execute("SELECT count(*) FROM entries").fetchone()
                db.close()
        finally:
            server.terminate()
            server.wait()
        rate = done / args.seconds
        if pg_url:
            floor_rate = pg_floor(pg_url, rows, args.seconds)
        else:
            floor_rate = floor(tmp, args.mode, rows, args.seconds)
        print(json.dumps({
            "engine": "postgres" if pg_url else "sqlite",
            "mode": args.mode,
            "clients": args.clients,
            "seconds": args.seconds,
            "uploads_per_s": round(rate),
            "refused": failed,
            "stored": stored,
            "floor_one_row_tx_per_s": round(floor_rate),
            "ratio": round(rate / floor_rate, 2),
        }))


if __name__ == "__main__":
    main()
