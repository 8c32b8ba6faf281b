#!/usr/bin/python3
"""Presents an OpenSSH certificate exactly as given, with paramiko
(Debian's python3-paramiko): the OpenSSH client refuses to send some
certificates the server must refuse itself (a host certificate, one whose
bytes were altered after signing). Every wait is bounded.

  cert_client.py SRC PORT KEY CERT USER [MODE]
      Logs in as USER with private key KEY and the certificate CERT (an
      OpenSSH *-cert.pub line) from loopback address SRC, runs `echo ok`
      and prints "logged-in OUTPUT", or prints "refused".
      MODE "asis" (default) sends CERT unchanged; "flip-key-id" changes
      one byte of the key ID after signing (the CA signature no longer
      covers it); "other-key" signs the session with KEY while CERT
      certifies another key (libssh must reject the signature).
"""
import base64
import socket
import struct
import sys

import paramiko


def load_key(path):
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key_file(path)
        except (paramiko.SSHException, ValueError):
            continue
    raise SystemExit("cannot load " + path)


def flip_key_id(blob):
    """The byte after the key ID's length field, found by walking the
    certificate to it (PROTOCOL.certkeys): type, nonce, key fields,
    serial, type, key id."""
    fields = {b"ssh-ed25519-cert-v01@openssh.com": 1,
              b"ssh-rsa-cert-v01@openssh.com": 2}
    off = 0

    def skip():
        nonlocal off
        n = struct.unpack(">I", blob[off:off + 4])[0]
        s = blob[off + 4:off + 4 + n]
        off += 4 + n
        return s

    ctype = skip()
    skip()  # nonce
    for _ in range(fields.get(ctype, 2)):
        skip()
    off += 8 + 4  # serial, type
    b = bytearray(blob)
    b[off + 4] ^= 0x01
    return bytes(b)


def main():
    src, port, keyfile, certfile, user = sys.argv[1:6]
    mode = sys.argv[6] if len(sys.argv) > 6 else "asis"
    key = load_key(keyfile)
    with open(certfile) as f:
        ctype, b64 = f.read().split()[:2]
    blob = base64.b64decode(b64)
    if mode == "flip-key-id":
        blob = flip_key_id(blob)
    if mode == "other-key":
        # paramiko refuses a certificate of another key; set it directly.
        key.public_blob = paramiko.PublicBlob(ctype, blob)
    else:
        key.load_certificate(ctype + " " + base64.b64encode(blob).decode())
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=10,
                                    source_address=(src, 0))
    t = paramiko.Transport(sock)
    t.start_client(timeout=10)
    t.auth_timeout = 8
    try:
        t.auth_publickey(user, key)
    except (paramiko.SSHException, EOFError, OSError):
        print("refused")
        t.close()
        return 0
    out = b""
    try:
        ch = t.open_session(timeout=5)
        ch.settimeout(5)
        ch.exec_command("echo ok")
        out = ch.recv(256)
    except (paramiko.SSHException, OSError, socket.timeout):
        pass
    print("logged-in " + out.decode(errors="replace").strip())
    t.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
