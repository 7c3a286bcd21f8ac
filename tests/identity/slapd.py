"""A real OpenLDAP server for the tests: Debian's `slapd`, run as a child process in a temporary folder.

`running_slapd(folder)` writes a `slapd.conf` (the mdb backend, the core, cosine, inetOrgPerson and
nis schemas, a self-signed certificate for StartTLS and LDAPS), loads the seed with `slapadd`, starts
slapd in the foreground on two free loopback ports (ldap:// and ldaps://) and stops it at the end.
Nothing outside the folder is touched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SCHEMA = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
SUFFIX = "dc=bank,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root-secret-for-tests"


def available() -> bool:
    return SLAPD.exists() and SLAPADD.exists() and (SCHEMA / "inetorgperson.schema").exists()


@dataclass
class Directory:
    ldap_url: str
    ldaps_url: str
    ca_file: Path
    suffix: str = SUFFIX
    root_dn: str = ROOT_DN
    root_password: str = ROOT_PASSWORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (the certificate is its own CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


def _config(folder: Path, cert: Path, key: Path) -> Path:
    schemas = "\n".join(
        f"include {SCHEMA / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")
    )
    text = f"""{schemas}
modulepath {MODULES}
moduleload back_mdb
pidfile {folder / "slapd.pid"}
argsfile {folder / "slapd.args"}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
TLSCACertificateFile {cert}

database mdb
maxsize 67108864
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {folder / "data"}
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by users read
  by * none
"""
    path = folder / "slapd.conf"
    path.write_text(text)
    return path


@contextlib.contextmanager
def running_slapd(folder: Path, seed_ldif: str) -> Iterator[Directory]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir()
    cert, key = self_signed(folder)
    conf = _config(folder, cert, key)
    (folder / "seed.ldif").write_text(seed_ldif)
    subprocess.run(
        [str(SLAPADD), "-f", str(conf), "-l", str(folder / "seed.ldif")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    port, tls_port = _free_port(), _free_port()
    urls = f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"
    log = (folder / "slapd.log").open("wb")
    # -d 0: stay in the foreground (a child of this process, so it is stopped below) and log nothing.
    process = subprocess.Popen(
        [str(SLAPD), "-f", str(conf), "-h", urls, "-d", "0"], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"slapd exited: {(folder / 'slapd.log').read_text(errors='replace')}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("slapd did not start listening within 30 s")
            time.sleep(0.05)
        yield Directory(
            ldap_url=f"ldap://127.0.0.1:{port}", ldaps_url=f"ldaps://127.0.0.1:{tls_port}", ca_file=cert
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
        shutil.rmtree(folder / "data", ignore_errors=True)
