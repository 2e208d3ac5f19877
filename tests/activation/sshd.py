"""A real OpenSSH sshd on 127.0.0.1 for the SFTP destination's tests (Debian's
openssh-server): a throwaway host key, a client key it authorises, key authentication only,
the SFTP subsystem, all under one temp dir, run as the current user.

`start_sshd()` returns a running `SshServer`; `stop()` ends it and removes the temp dir.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.pg import free_port

SSHD = Path(os.environ.get("CAREBASE_TEST_SSHD", "/usr/sbin/sshd"))
# sshd refuses to start as root without its privilege separation directory (systemd makes it
# at boot; a container or a CI runner may not have it).
PRIVSEP_DIR = Path("/run/sshd")
START_TIMEOUT = 10.0


def sshd_unavailable_reason() -> str | None:
    """Why no sshd can be started here, or None when it can."""
    if not SSHD.exists():
        return f"{SSHD} not found (install Debian's openssh-server)"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen not found (install Debian's openssh-client)"
    return None


@dataclass
class SshServer:
    """A running sshd: where it listens, who may log in and with which key, its host key to
    pin, and the directory uploads go to (`root`, a path on this machine and the server's)."""

    host: str
    port: int
    username: str
    host_key: str  # the server's public host key, an OpenSSH line ("ssh-ed25519 AAAA…")
    client_key: str  # the authorised client's private key (OpenSSH text)
    client_public_key: str
    root: Path
    workdir: Path
    authorized_keys: Path
    process: subprocess.Popen[bytes]
    log: Path
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        """sftp://user@host:port, for messages."""
        return f"sftp://{self.username}@{self.host}:{self.port}"

    def authorize(self, public_key_line: str) -> None:
        """Let one more public key log in (the destination's generated key, once shown)."""
        with self.authorized_keys.open("a", encoding="utf-8") as handle:
            handle.write(public_key_line.strip() + "\n")

    def log_text(self) -> str:
        """What sshd said so far (its -e log), for failure messages."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """End sshd (SIGTERM, then SIGKILL) and remove its files."""
        if self._stopped:
            return
        self._stopped = True
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _keygen(path: Path, comment: str) -> tuple[str, str]:
    """A new Ed25519 key pair at `path`: (private key text, public key line)."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.read_text(encoding="utf-8"), path.with_suffix(".pub").read_text().strip()


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with {process.returncode}: {log.read_text()}")
        try:
            with socket.create_connection((host, port), timeout=0.5) as sock:
                # sshd speaks first: its banner means it is serving, not just bound.
                sock.settimeout(2)
                if sock.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not accept connections in {START_TIMEOUT} s: {log.read_text()}")


def start_sshd() -> SshServer:
    """Start a throwaway sshd on a free loopback port; it is serving when this returns."""
    reason = sshd_unavailable_reason()
    if reason is not None:
        raise RuntimeError(reason)
    if os.geteuid() == 0 and not PRIVSEP_DIR.is_dir():
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="carebase-sshd-"))
    _, host_public = _keygen(workdir / "host_ed25519", "carebase-test-host")
    client_key, client_public = _keygen(workdir / "client_ed25519", "carebase-test-client")
    # The host key's comment is ours, not the server's: pin the key itself.
    host_key_line = " ".join(host_public.split()[:2])
    authorized_keys = workdir / "authorized_keys"
    authorized_keys.write_text(client_public + "\n", encoding="utf-8")
    root = workdir / "root"
    root.mkdir()
    username = getpass.getuser()
    port = free_port()
    config = workdir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                "ListenAddress 127.0.0.1",
                f"Port {port}",
                f"HostKey {workdir / 'host_ed25519'}",
                f"PidFile {workdir / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized_keys}",
                f"AllowUsers {username}",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "PermitUserEnvironment no",
                "AllowTcpForwarding no",
                "X11Forwarding no",
                "LogLevel VERBOSE",
                # In-process: an external sftp-server starts through the user's login
                # shell, half a second per session.
                "Subsystem sftp internal-sftp",
                "",
            ]
        ),
        encoding="utf-8",
    )
    log = workdir / "sshd.log"
    with log.open("wb") as log_handle:
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
        )
    server = SshServer(
        host="127.0.0.1",
        port=port,
        username=username,
        host_key=host_key_line,
        client_key=client_key,
        client_public_key=client_public,
        root=root,
        workdir=workdir,
        authorized_keys=authorized_keys,
        process=process,
        log=log,
    )
    try:
        _wait_for_port(server.host, port, process, log)
    except BaseException:
        server.stop()
        raise
    return server
