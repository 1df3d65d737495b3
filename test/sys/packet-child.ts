// Runs inside a network namespace made by packet-netns.test.ts: sends a gratuitous ARP from one end of a veth
// pair on an AF_PACKET socket and receives it at the other end, printing what the receiver decoded.
import { AF_PACKET, ETH_P_ARP, SOCK_DGRAM } from '../../src/sys/constants.ts';
import { htons } from '../../src/sys/inet.ts';
import { sys } from '../../src/sys/native.ts';
import { DatagramSocket } from '../../src/sys/socket.ts';

const [from = 'pkt0', to = 'pkt1'] = process.argv.slice(2);
const rx = DatagramSocket.open(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ARP));
rx.bind({ family: 'packet', protocol: ETH_P_ARP, ifindex: sys().ifNameToIndex(to) });
const tx = DatagramSocket.open(AF_PACKET, SOCK_DGRAM, 0);
// ARP request, Ethernet/IPv4, sender = target = 10.9.9.9 (gratuitous), sender MAC 02:00:00:00:00:01.
const arp = Buffer.from('0001' + '0800' + '06' + '04' + '0001' + '020000000001' + '0a090909' + '000000000000' + '0a090909', 'hex');
const timer = setTimeout(() => {
  console.error('no ARP received within 5 s');
  process.exit(1);
}, 5000);
rx.onMessage((d) => {
  clearTimeout(timer);
  const from = d.from?.family === 'packet' ? { ...d.from, addr: Buffer.from(d.from.addr ?? []).toString('hex') } : d.from;
  console.log(JSON.stringify({ data: d.data.toString('hex'), from }));
  rx.close();
  tx.close();
});
tx.send(arp, { family: 'packet', protocol: ETH_P_ARP, ifindex: sys().ifNameToIndex(from), addr: Buffer.from('ffffffffffff', 'hex') });
