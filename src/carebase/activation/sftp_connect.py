"""Connecting to an SFTP destination, step by step, each step saying exactly what failed:
connect (resolving the host, refusing private addresses unless allowed, the SSH handshake),
host key (the pinned key, or nothing), authenticate (the client's key), open directory."""

from __future__ import annotations

import errno
import ipaddress
import socket
import stat
from contextlib import suppress

import paramiko

from carebase.activation.channel import CheckStep
from carebase.activation.sftp_keys import (
    HOST_KEY_ALGORITHMS,
    fingerprint,
    key_line,
    load_private_key,
    parse_public_key,
)

# Connecting, the server's banner, the key exchange and authentication each get this long: a
# host that drops packets cannot hold a run.
CONNECT_TIMEOUT = 10.0
# The longest an SFTP request (open, write, rename) waits for the server's answer.
OPERATION_TIMEOUT = 60.0
# A server that answers nothing may come back: the run is retried after this long.
RETRY_AFTER = 300.0
KEEPALIVE_SECONDS = 30


class StepFailed(Exception):
    """One step of connecting failed: which, exactly why, and whether trying later may help."""

    def __init__(self, step: str, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.step, self.detail, self.retry_after = step, detail, retry_after


class Connection:
    """One authenticated SFTP session on a transport, in the destination's directory."""

    def __init__(
        self, transport: paramiko.Transport, sftp: paramiko.SFTPClient, directory: str
    ) -> None:
        self.transport, self.sftp, self.directory = transport, sftp, directory

    def close(self) -> None:
        """End the session and the connection."""
        self.sftp.close()
        self.transport.close()


class Connector:
    """Opens authenticated SFTP sessions to one server, as one user, in one directory."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        directory: str,
        host_key: str | None,
        private_key: str,
        allow_private: bool,
    ) -> None:
        self.host, self.port, self.username, self.directory = host, port, username, directory
        self.host_key, self.private_key, self.allow_private = host_key, private_key, allow_private

    def _socket(self) -> tuple[socket.socket, str]:
        host, port = self.host, self.port
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise StepFailed(
                "connect", f"cannot resolve {host}: {error.strerror}", retry_after=RETRY_AFTER
            ) from error
        # Every address is checked, and the connection goes to a checked one (no second
        # lookup that could answer differently).
        for info in infos:
            ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if not ip.is_global and not self.allow_private:
                raise StepFailed(
                    "connect",
                    f"{host} resolves to a non-public address ({ip}); "
                    "set CAREBASE_ALLOW_PRIVATE_OUTBOUND=true to allow it",
                )
        last: OSError | None = None
        for family, kind, proto, _name, address in infos:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(CONNECT_TIMEOUT)
            try:
                sock.connect(address)
            except OSError as error:
                sock.close()
                last = error
                continue
            return sock, str(address[0])
        reason = "timed out" if isinstance(last, TimeoutError) else (last and last.strerror)
        raise StepFailed(
            "connect", f"cannot connect to {host}:{port}: {reason}", retry_after=RETRY_AFTER
        )

    def connect(self, steps: list[CheckStep]) -> Connection:
        """Connect, check the host key, authenticate and open the directory, recording each
        step; StepFailed at the first that fails."""
        pinned = parse_public_key(self.host_key) if self.host_key else None
        sock, address = self._socket()
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = CONNECT_TIMEOUT
            transport.handshake_timeout = CONNECT_TIMEOUT
            transport.auth_timeout = CONNECT_TIMEOUT
            if pinned is not None:
                # Ask for the pinned key's type, so a server with several shows that one.
                transport.get_security_options().key_types = HOST_KEY_ALGORITHMS[pinned[0]]
            where = f"connected to {self.host}:{self.port} ({address})"
            try:
                self._handshake(transport, pinned)
            except StepFailed as failed:
                if failed.step == "host key":
                    # Connected; the server just has no key of the pinned type.
                    steps.append(CheckStep("connect", True, where))
                raise
            steps.append(CheckStep("connect", True, f"{where}, {transport.remote_version}"))
            steps.append(CheckStep("host key", True, self._check_host_key(transport, pinned)))
            steps.append(CheckStep("authenticate", True, self._authenticate(transport)))
            # CSV rows are gathered before the upload starts: keep an idle session alive.
            transport.set_keepalive(KEEPALIVE_SECONDS)
            sftp, directory = self._open_directory(transport)
            steps.append(CheckStep("open directory", True, f"{directory} is a directory"))
        except BaseException:
            transport.close()
            raise
        return Connection(transport, sftp, directory)

    def _handshake(self, transport: paramiko.Transport, pinned: tuple[str, bytes] | None) -> None:
        where = f"{self.host}:{self.port}"
        try:
            transport.start_client(timeout=CONNECT_TIMEOUT)
        except paramiko.SSHException as error:
            if pinned is not None and "host key" in str(error):
                raise StepFailed(
                    "host key",
                    f"the server at {where} has no {pinned[0]} host key (the pinned key's "
                    f"type, {fingerprint(pinned[1])}): refusing to connect",
                ) from error
            raise StepFailed(
                "connect", f"SSH handshake with {where} failed: {error}", retry_after=RETRY_AFTER
            ) from error
        except (OSError, EOFError) as error:
            raise StepFailed(
                "connect",
                f"SSH handshake with {where} failed: {error or type(error).__name__}",
                retry_after=RETRY_AFTER,
            ) from error

    def _check_host_key(
        self, transport: paramiko.Transport, pinned: tuple[str, bytes] | None
    ) -> str:
        offered = transport.get_remote_server_key()
        offered_print = fingerprint(offered.asbytes())
        if pinned is None:
            raise StepFailed(
                "host key",
                f"no host key is pinned; the server offered {key_line(offered)} "
                f"({offered_print}). Check it with the server's administrator, then set it "
                "as the destination's host_key",
            )
        if offered.asbytes() != pinned[1]:
            raise StepFailed(
                "host key",
                f"the server's host key {offered_print} is not the pinned key "
                f"{fingerprint(pinned[1])}: refusing to connect (the server's key changed, "
                "or this is not the server)",
            )
        return f"the server's {offered.get_name()} key matches the pin ({offered_print})"

    def _authenticate(self, transport: paramiko.Transport) -> str:
        user = self.username
        if not self.private_key:
            raise StepFailed("authenticate", "the destination has no private key")
        try:
            key = load_private_key(self.private_key)
        except ValueError as error:
            raise StepFailed("authenticate", str(error)) from error
        key_print = fingerprint(key.asbytes())
        try:
            remaining = transport.auth_publickey(user, key)
        except paramiko.BadAuthenticationType as error:
            allowed = ", ".join(error.allowed_types) or "nothing"
            raise StepFailed(
                "authenticate",
                f"the server does not take keys for {user} (it allows: {allowed})",
            ) from error
        except paramiko.AuthenticationException as error:
            raise StepFailed(
                "authenticate",
                f"the server refused the key {key_print} for user {user}: add the "
                "destination's public key to that user's authorized_keys",
            ) from error
        except (paramiko.SSHException, OSError, EOFError) as error:
            raise StepFailed(
                "authenticate", f"authentication failed: {error}", retry_after=RETRY_AFTER
            ) from error
        if remaining:
            raise StepFailed(
                "authenticate",
                f"the server asks for more than a key for {user} ({', '.join(remaining)})",
            )
        return f"logged in as {user} with the key {key_print}"

    def _open_directory(self, transport: paramiko.Transport) -> tuple[paramiko.SFTPClient, str]:
        wanted = self.directory
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
        except (paramiko.SSHException, OSError, EOFError) as error:
            raise StepFailed("open directory", f"the server refused SFTP: {error}") from error
        if sftp is None:
            raise StepFailed("open directory", "the server refused SFTP")
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(OPERATION_TIMEOUT)
        try:
            directory = sftp.normalize(wanted)
            attributes = sftp.stat(directory)
        except OSError as error:
            sftp.close()
            raise StepFailed("open directory", io_reason(error, wanted)) from error
        if attributes.st_mode is None or not stat.S_ISDIR(attributes.st_mode):
            sftp.close()
            raise StepFailed("open directory", f"{directory} is not a directory")
        return sftp, directory


def remove_quietly(sftp: paramiko.SFTPClient, path: str) -> None:
    """Remove a file if it is there (cleaning up after a failure: never raises)."""
    with suppress(OSError, paramiko.SSHException, EOFError):
        sftp.remove(path)


def io_reason(error: OSError, path: str) -> str:
    """What an SFTP error means, with the path it was about."""
    if error.errno == errno.ENOENT:
        return f"no such file or directory on the server: {path}"
    if error.errno == errno.EACCES:
        return f"permission denied on the server: {path}"
    return f"{path}: {error.strerror or error}"
