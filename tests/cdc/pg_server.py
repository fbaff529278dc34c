"""A throwaway PostgreSQL 15 server for the CDC end-to-end tests: initdb in a temporary folder,
wal_level = logical, trust authentication on 127.0.0.1 only, a free port. As root it runs as
the postgres user (PostgreSQL refuses root). Missing binaries raise: the test fails loudly.

    with PgServer() as pg:
        pg.sql("CREATE TABLE t (id int PRIMARY KEY)")
        pg.dsn  # "host=127.0.0.1 port=... user=postgres dbname=postgres"
"""
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, wal_level="logical"):
        for tool in ("initdb", "pg_ctl"):
            if not os.access(os.path.join(PG_BIN, tool), os.X_OK):
                raise RuntimeError(f"{PG_BIN}/{tool} is missing: install postgresql-15 "
                                   "(scripts/bootstrap.sh)")
        if shutil.which("psql") is None:
            raise RuntimeError("psql is missing: install postgresql-client")
        self.wal_level = wal_level
        self.dir = tempfile.mkdtemp(prefix="plexus-cdc-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        self.as_user = []
        self.started = False

    def __enter__(self):
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                   "--no-sync", "-E", "UTF8", "--locale=C"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.dir}'\nwal_level = {self.wal_level}\n"
                       "max_replication_slots = 10\nmax_wal_senders = 10\nfsync = off\n"
                       "full_page_writes = off\ntimezone = 'UTC'\n")
        self._run([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"),
                   "-w", "-t", "60", "start"])
        self.started = True
        return self

    def __exit__(self, *exc):
        if self.started:
            subprocess.run(self.as_user + [f"{PG_BIN}/pg_ctl", "-D", self.data, "-m",
                                           "immediate", "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, command):
        r = subprocess.run(self.as_user + command, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {r.stdout}{r.stderr}")

    def sql(self, text):
        """Runs `text` (one transaction per call); returns its rows as text, one per line."""
        r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.dsn,
                            "-c", text], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"psql: {text}: {r.stderr}")
        return r.stdout
