"""Assemble, configure, start, stop and probe the local Neo4j server.

Layout under ``home`` (git-ignored): ``lib/`` the jars Maven copied, ``conf/neo4j.conf`` written
from settings on every start, ``data/``, ``logs/``, ``run/``. The server is started with its own
launcher class (what ``bin/neo4j`` runs), which forks the server JVM and records its pid.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, DriverError, Neo4jError

from kgservice.settings import LocalNeo4jSettings

LAUNCHER = "org.neo4j.server.startup.Neo4jCommand"
ADMIN = "org.neo4j.server.startup.Neo4jAdminCommand"
MIN_JAVA = 17
# The JVM options of the neo4j.conf that Neo4j's own distribution ships, which we do not use
# (we write the file): with the JVM's bare defaults Neo4j spends ~15 % more CPU storing a
# submission (docs/performance.md, "Neo4j's heap and young generation"). The --add-opens let
# Neo4j and Netty use direct buffers without reflection errors.
JVM_OPTIONS = (
    "-XX:+UseG1GC",
    # Young generation fixed at half the heap, where G1 would size it for its pause goal (an
    # eden of ~0.5 GB of 4 GB): a 1,000-record submission's transaction state (~15k nodes) lives
    # until it commits and is copied by every young collection meanwhile, so fewer collections
    # mean less of Neo4j's CPU per store (docs/performance.md).
    "-XX:NewRatio=1",
    # With so large a young generation a young collection comes only every ~60 s at 200
    # decisions/s, and most of what survives one lives much longer; at the default threshold of
    # 15 it would be copied again by each of the next 14 collections. Promoted after surviving
    # one, the young pause (the largest single stall in a decision's tail) is about half as long,
    # and storing is unchanged (docs/performance.md).
    "-XX:MaxTenuringThreshold=1",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+AlwaysPreTouch",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)


class LocalNeo4jError(Exception):
    """Something the operator must fix; the message says what."""


@dataclass(frozen=True, slots=True)
class Status:
    running: bool
    detail: str


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def java_major(version_output: str) -> int | None:
    """Major version from ``java -version`` output ('1.8.0_392' → 8, '17.0.15' → 17)."""
    m = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if m is None:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


class LocalNeo4j:
    def __init__(self, cfg: LocalNeo4jSettings, password: str) -> None:
        self.cfg = cfg
        self.password = password
        self.home = cfg.home.resolve()
        self.jars = cfg.jars.resolve() / cfg.version
        self.lib = self.home / "lib"
        self.conf_dir = self.home / "conf"

    # -- prerequisites -------------------------------------------------------------------------

    def check_java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise LocalNeo4jError(
                f"Java {MIN_JAVA}+ is required to run Neo4j and `java` is not on PATH "
                "(Debian: apt-get install openjdk-17-jre-headless)"
            )
        out = subprocess.run(  # noqa: S603 - fixed arguments
            [java, "-version"], capture_output=True, text=True, check=False
        )
        major = java_major(out.stderr + out.stdout)
        if major is None or major < MIN_JAVA:
            raise LocalNeo4jError(
                f"Neo4j {self.cfg.version} needs Java {MIN_JAVA} or newer; `java -version` "
                f"reports {major or 'an unknown version'}"
            )
        return java

    def check_maven(self) -> str:
        mvn = shutil.which("mvn")
        if mvn is None:
            raise LocalNeo4jError(
                "Maven is required to fetch the Neo4j jars and `mvn` is not on PATH "
                "(Debian: apt-get install maven), or set NEO4J_URI to use an existing server"
            )
        return mvn

    # -- assembly ------------------------------------------------------------------------------

    @property
    def server_jar(self) -> Path:
        return self.lib / f"neo4j-{self.cfg.version}.jar"

    def assemble(self) -> bool:
        """Fetch the jars unless cached, and link them as this instance's ``lib/``.

        Returns True if it fetched."""
        fetched = False
        if not (self.jars / self.server_jar.name).exists():
            self._fetch()
            fetched = True
        self.home.mkdir(parents=True, exist_ok=True)
        if self.lib.is_symlink() or self.lib.exists():
            if self.lib.resolve() == self.jars:
                return fetched
            if self.lib.is_symlink():
                self.lib.unlink()
            else:
                shutil.rmtree(self.lib)
        self.lib.symlink_to(self.jars, target_is_directory=True)
        return fetched

    def _fetch(self) -> None:
        mvn = self.check_maven()
        work = self.jars.parent / "assembly"
        work.mkdir(parents=True, exist_ok=True)
        pom = resources.files("kgservice.localneo4j").joinpath("pom.xml").read_text("utf-8")
        (work / "pom.xml").write_text(pom, encoding="utf-8")
        staging = self.jars.parent / f"{self.cfg.version}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(work / "pom.xml"),
            f"-Dneo4j.version={self.cfg.version}",
            "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
        if out.returncode != 0 or not (staging / self.server_jar.name).exists():
            tail = (out.stdout + out.stderr).strip().splitlines()[-20:]
            raise LocalNeo4jError(
                f"Maven could not fetch org.neo4j:neo4j:{self.cfg.version}:\n" + "\n".join(tail)
            )
        # Rename into place so an interrupted download never leaves a half-filled cache.
        shutil.rmtree(self.jars, ignore_errors=True)
        staging.rename(self.jars)

    def write_conf(self) -> Path:
        for sub in ("conf", "data", "logs", "run", "plugins", "import"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        heap = self.cfg.heap_size()
        lines = [
            "# Written by `shield neo4j start` from HS_LOCAL_NEO4J__* settings; edits are lost.",
            "server.default_listen_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{self.cfg.bolt_port}",
            "server.http.enabled=false",
            "server.https.enabled=false",
            "dbms.security.auth_enabled=true",
            f"server.memory.heap.initial_size={heap}",
            f"server.memory.heap.max_size={heap}",
            f"server.memory.pagecache.size={self.cfg.pagecache}",
            f"db.transaction.timeout={self.cfg.transaction_timeout}",
            "db.lock.acquisition.timeout=30s",
            # No keep-alive NOOPs during requests, hence no receive-timeout hint to drivers: the
            # async driver would time every socket read (kgservice/graph/database.py, Graph).
            "server.bolt.connection_keep_alive_for_requests=OFF",
            "dbms.usage_report.enabled=false",
            f"server.directories.import={self.home / 'import'}",
            *(f"server.jvm.additional={option}" for option in JVM_OPTIONS),
        ]
        path = self.conf_dir / "neo4j.conf"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    # -- lifecycle -----------------------------------------------------------------------------

    def _launcher(self, main: str, *args: str) -> subprocess.CompletedProcess[str]:
        java = self.check_java()
        env = {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.conf_dir)}
        return subprocess.run(  # noqa: S603 - arguments are ours, not user input
            [java, "-cp", f"{self.lib}/*", main, *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=300,
        )

    def status(self) -> Status:
        if not self.server_jar.exists():
            return Status(False, f"not assembled ({self.lib} has no Neo4j {self.cfg.version})")
        out = self._launcher(LAUNCHER, "status")
        text = (out.stdout + out.stderr).strip()
        return Status(out.returncode == 0 and "running" in text.lower(), text)

    def start(self) -> str:
        """Assemble if needed, start, and wait until Bolt answers ``RETURN 1``."""
        self.check_java()
        self.assemble()
        self.write_conf()
        if self.status().running:
            self.wait_ready()
            return "already running"
        if not (self.home / "data" / "dbms" / "auth.ini").exists():
            # Only possible before the first start; Neo4j requires at least 8 characters.
            out = self._launcher(ADMIN, "dbms", "set-initial-password", self.password)
            if out.returncode != 0:
                raise LocalNeo4jError("could not set the initial password:\n" + out.stderr[-2000:])
        if port_in_use(self.cfg.bolt_port):
            raise LocalNeo4jError(
                f"port {self.cfg.bolt_port} is taken by another process (another Neo4j?); "
                "stop it or set HS_LOCAL_NEO4J__BOLT_PORT"
            )
        out = self._launcher(LAUNCHER, "start")
        if out.returncode != 0:
            raise LocalNeo4jError(
                "Neo4j did not start:\n" + (out.stdout + out.stderr)[-2000:] + self.log_tail()
            )
        self.wait_ready()
        return "started"

    def stop(self) -> str:
        if not self.server_jar.exists():
            return "not assembled"
        out = self._launcher(LAUNCHER, "stop")
        return (out.stdout + out.stderr).strip() or "stopped"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.cfg.start_timeout_s
        uri = f"bolt://127.0.0.1:{self.cfg.bolt_port}"
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with GraphDatabase.driver(uri, auth=("neo4j", self.password)) as driver:
                    driver.execute_query("RETURN 1")
                return
            except AuthError as e:
                raise LocalNeo4jError(
                    f"Neo4j at {uri} refused the configured password. It keeps the password it "
                    f"was first started with; delete {self.home / 'data'} to start afresh."
                ) from e
            except (DriverError, Neo4jError, OSError) as e:
                last = e
                time.sleep(1.0)
        raise LocalNeo4jError(
            f"Neo4j did not answer on {uri} within {self.cfg.start_timeout_s:.0f} s "
            f"(last error: {last}).\n--- {self.home / 'logs'} ---\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for name in ("neo4j.log", "debug.log"):
            path = self.home / "logs" / name
            if path.exists():
                text = path.read_text("utf-8", errors="replace").splitlines()[-lines:]
                parts.append(f"[{name}]\n" + "\n".join(text))
        return "\n".join(parts) or "(no log written)"
