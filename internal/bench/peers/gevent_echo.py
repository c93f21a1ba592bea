# A TCP echo server on gevent's StreamServer (a greenlet per connection),
# the Python peer that internal/bench/echo measures with -gevent.
#
# Needs Debian's python3-gevent (apt-get install -y python3-gevent) and
# Debian's interpreter, /usr/bin/python3, which sees it:
#
#     /usr/bin/python3 internal/bench/peers/gevent_echo.py PORT
#
# It listens on 127.0.0.1:PORT until it is killed.
import sys

from gevent.server import StreamServer


def echo(sock, _addr):
    while True:
        data = sock.recv(65536)
        if not data:
            return
        sock.sendall(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: gevent_echo.py PORT")
    StreamServer(("127.0.0.1", int(sys.argv[1])), echo, backlog=1024).serve_forever()
