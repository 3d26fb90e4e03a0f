"""A local SMTP server for tests/cli/notify_email.rs: STARTTLS required (the test's own
certificate), AUTH PLAIN/LOGIN required (user and password from argv), each message written to
OUT_DIR as one file. Prints `ready` once it listens; runs until killed.

usage: smtp_server.py PORT CERT KEY USER PASSWORD OUT_DIR
"""
import pathlib
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port = int(sys.argv[1])
cert, key, user, password, out = sys.argv[2:7]
out = pathlib.Path(out)


class Save:
    async def handle_DATA(self, server, session, envelope):
        n = len(list(out.iterdir()))
        (out / f"{n:04d}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 OK stored"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    return AuthResult(success=ok)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(
    Save(),
    hostname="127.0.0.1",
    port=port,
    tls_context=context,
    require_starttls=True,
    authenticator=authenticate,
    auth_require_tls=True,
    server_hostname="localhost",
)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
