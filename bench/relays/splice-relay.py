# The least any relay can do on Linux: one hop, no HTTP, bytes moved by splice(2) through a pipe and never
# copied into the relay's memory. A reference for the preview benchmark, not part of ciab.
# Listens on a free loopback port and prints it. argv: <target port>
import fcntl, os, socket, sys, threading

F_SETPIPE_SZ = 1031
CHUNK = 1 << 20

def pump(source, sink):
    read_end, write_end = os.pipe()
    try:
        fcntl.fcntl(write_end, F_SETPIPE_SZ, CHUNK)
    except OSError:
        pass
    try:
        while True:
            moved = os.splice(source.fileno(), write_end, CHUNK)
            if moved == 0:
                break
            while moved > 0:
                moved -= os.splice(read_end, sink.fileno(), moved)
    except OSError:
        pass
    finally:
        os.close(read_end)
        os.close(write_end)
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print(listener.getsockname()[1], flush=True)
target = int(sys.argv[1])
while True:
    client, _ = listener.accept()
    upstream = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
