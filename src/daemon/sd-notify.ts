// systemd's readiness protocol: one datagram ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=…") to the unix
// socket named by $NOTIFY_SOCKET. Node has no unix datagram sockets, so it goes through src/sys's raw socket.
import { DatagramSocket } from '../sys/socket.ts';
import { SOCK_DGRAM } from '../sys/constants.ts';

const AF_UNIX = 1;

/** struct sockaddr_un for a path; a leading '@' names an abstract socket (leading NUL). */
export function sockaddrUn(path: string): Buffer {
  const name = Buffer.from(path.startsWith('@') ? `\0${path.slice(1)}` : `${path}\0`);
  if (name.length > 108) throw new Error(`NOTIFY_SOCKET path too long: ${path}`);
  const b = Buffer.alloc(2 + name.length);
  b.writeUInt16LE(AF_UNIX, 0);
  name.copy(b, 2);
  return b;
}

/** Sends the state lines; does nothing when not started by systemd. Never throws (readiness is best effort). */
export function sdNotify(state: string, socketPath = process.env.NOTIFY_SOCKET): boolean {
  if (!socketPath) return false;
  let sock: DatagramSocket | undefined;
  try {
    sock = DatagramSocket.open(AF_UNIX, SOCK_DGRAM, 0);
    sock.send(Buffer.from(state), sockaddrUn(socketPath));
    return true;
  } catch {
    return false;
  } finally {
    sock?.close();
  }
}
