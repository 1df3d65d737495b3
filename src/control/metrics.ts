// Prometheus metrics (prom-client). VRRP uses mehdy/keepalived-exporter's names and labels so existing keepalived
// dashboards and alerts keep working; IPVS per service and real server uses node_exporter's ipvs label set under
// our own prefix (a director host usually runs node_exporter, whose node_ipvs_* series would otherwise be
// duplicated; --metrics-node-ipvs adds those exact names for hosts without it). See docs/metrics.md.
import diagnostics from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import { type BlockSample, escapeLabel, ExpositionWriter, LabelBlock, LabelBlocks, labelText } from './exposition.ts';
import { attemptChannel, type AttemptMessage } from '../check/runner.ts';
import { virtualServerLabel } from '../check/labels.ts';
import { hostPort } from '../sys/inet.ts';
import type { DirectorEvent } from '../director/events.ts';
import type { Counters, DirectorStatus, DirectorTables, ServiceName, TableVisitor, WeightedEndpoint } from '../director/status.ts';
import type { BgpStatus } from '../bgp/service.ts';
import type { VirtualServer } from '../config/model.ts';

// prom-client's index also loads its default process metrics and, through them, @opentelemetry/api: 90 modules,
// 0.13 s on the host and seconds under TCG at every daemon start, for nothing this daemon exports. The four
// classes are taken from their own files (prom-client has no "exports" map; the version is pinned in the lock).
const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;
type Registry = PromClient.Registry;
type Counter<T extends string = string> = PromClient.Counter<T>;
type Gauge<T extends string = string> = PromClient.Gauge<T>;
type Histogram<T extends string = string> = PromClient.Histogram<T>;

/** What the daemon reports: the director's status and, with a bgp_announcer block, the announcer's. */
export type DaemonStatus = DirectorStatus & { readonly bgp?: BgpStatus };
/** What a scrape reads: the director's tables (Director.tables) and, with a bgp_announcer block, the announcer's status. */
export type DaemonTables = DirectorTables & { readonly bgp?: BgpStatus };
import type { Stats } from '../vrrp/engine.ts';

/** keepalived_vrrp_state values: the exporter's 0-3, and keepalived's internal STOP (98) for a stopped instance. */
export const VRRP_STATE_VALUE: Readonly<Record<string, number>> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 98 };

/** mehdy/keepalived-exporter counter name → the engine's counter. */
const VRRP_COUNTERS: readonly [string, keyof Stats, string][] = [
  ['keepalived_advertisements_received_total', 'advert_rcvd', 'Adverts received'],
  ['keepalived_advertisements_sent_total', 'advert_sent', 'Adverts sent'],
  ['keepalived_become_master_total', 'become_master', 'Transitions to MASTER'],
  ['keepalived_release_master_total', 'release_master', 'Transitions out of MASTER'],
  ['keepalived_packet_length_errors_total', 'packet_len_err', 'Adverts dropped: bad length'],
  ['keepalived_advertisements_interval_errors_total', 'advert_interval_err', 'Adverts dropped: advert interval mismatch'],
  ['keepalived_ip_ttl_errors_total', 'ip_ttl_err', 'Adverts dropped: TTL/hop limit not 255'],
  ['keepalived_invalid_type_received_total', 'invalid_type_rcvd', 'Adverts dropped: not an advertisement'],
  ['keepalived_address_list_errors_total', 'addr_list_err', 'Adverts dropped: address list mismatch'],
  ['keepalived_authentication_invalid_total', 'invalid_authtype', 'Adverts dropped: unknown authentication type'],
  ['keepalived_authentication_mismatch_total', 'authtype_mismatch', 'Adverts dropped: authentication type mismatch'],
  ['keepalived_authentication_failure_total', 'auth_failure', 'Adverts dropped: wrong password'],
  ['keepalived_priority_zero_received_total', 'pri_zero_rcvd', 'Priority-0 adverts received'],
  ['keepalived_priority_zero_sent_total', 'pri_zero_sent', 'Priority-0 adverts sent'],
  ['ipvs_ts_vrrp_version_errors_total', 'vers_err', 'Adverts dropped: wrong VRRP version'],
  ['ipvs_ts_vrrp_checksum_errors_total', 'chk_err', 'Adverts dropped: bad checksum'],
  ['ipvs_ts_vrrp_vrid_errors_total', 'vrid_err', 'Adverts dropped: unknown VRID'],
];

const VRRP = ['iname', 'intf', 'vrid'] as const;
const RS = ['virtual_server', 'real_server'] as const;

export interface MetricsOptions {
  /** Also export node_exporter's exact node_ipvs_backend_* names. */
  readonly nodeIpvsNames?: boolean;
  /** Also export packets and bytes per real server (4 more series per destination; per service they always are). */
  readonly backendTraffic?: boolean;
}

const TRAFFIC = [['connections', 'conns'], ['incoming_packets', 'inPkts'], ['outgoing_packets', 'outPkts'], ['incoming_bytes', 'inBytes'], ['outgoing_bytes', 'outBytes']] as const;

export class DirectorMetrics {
  readonly registry = new Registry();
  #snapshot: DaemonTables | undefined;
  readonly #lastUp = new Map<string, boolean>();
  readonly #checkResults: Counter<'virtual_server' | 'checker' | 'result'>;
  readonly #checkDuration: Histogram<'virtual_server' | 'checker'>;
  /**
   * Each attempt's series, per virtual server (model object) and checker type: prom-client's children, so an
   * attempt costs no label hashing (every check of the daemon passes here). A reload brings new objects.
   */
  readonly #attemptSeries = new WeakMap<VirtualServer, Map<string, {
    readonly labels: { readonly virtual_server: string; readonly checker: string };
    readonly duration: PromClient.Histogram.Internal<'virtual_server' | 'checker'>;
    readonly results: Map<string, PromClient.Counter.Internal>;
  }>>();
  readonly #checkTransitions: Counter<'virtual_server' | 'real_server' | 'to'>;
  readonly #applies: Counter<'reason'>;
  readonly #ops: Counter<'result'>;
  readonly #verdictToKernel: Histogram;
  readonly #stalls: Counter;
  readonly #lastStall: Gauge;
  readonly #drift: Counter<'what'>;
  readonly #errors: Counter<'where'>;
  readonly #reloads: Counter<'result'>;
  readonly #transitions: Counter<'iname' | 'from' | 'to'>;
  readonly #vrrpFailures: Counter;
  readonly #alerts: Counter<'result'>;
  readonly #onAttempt = (m: unknown) => this.#attempt(m as AttemptMessage);
  readonly #tablesOf: () => Promise<DaemonTables>;
  readonly #backendPrefixes: readonly string[];
  readonly #backendTraffic: boolean;
  /** Label text of the per-destination and per-real-server series, kept between scrapes (src/control/exposition.ts). */
  readonly #backendBlocks = new LabelBlocks();
  readonly #realServerBlocks = new LabelBlocks();
  /** The last scrape's walk, its columns' storage reused by the next. */
  #spare: Walk | undefined;

  constructor(tables: () => Promise<DaemonTables>, opts: MetricsOptions = {}) {
    this.#tablesOf = tables;
    this.#backendPrefixes = opts.nodeIpvsNames ? ['ipvs_ts_backend', 'node_ipvs_backend'] : ['ipvs_ts_backend'];
    this.#backendTraffic = opts.backendTraffic ?? false;
    const r = [this.registry];
    const snap = () => this.#snapshot;
    new Gauge({ name: 'keepalived_up', help: '1 when the daemon answered this scrape', registers: r, collect() { this.set(snap() ? 1 : 0); } });
    gauge(r, 'keepalived_vrrp_state', 'VRRP state per VIP: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP', [...VRRP, 'ip_address'], snap, (s, set) => {
      for (const i of s.vrrp) for (const vip of i.vips.length ? i.vips : ['']) set({ iname: i.name, intf: i.interface, vrid: String(i.vrid), ip_address: vip }, VRRP_STATE_VALUE[i.state] ?? 0);
    });
    gauge(r, 'keepalived_vrrp_excluded_state', 'VRRP state per excluded VIP', [...VRRP, 'ip_address'], snap, (s, set) => {
      for (const i of s.vrrp) for (const vip of i.excludedVips) set({ iname: i.name, intf: i.interface, vrid: String(i.vrid), ip_address: vip }, VRRP_STATE_VALUE[i.state] ?? 0);
    });
    gauge(r, 'ipvs_ts_vrrp_priority', 'Current VRRP priority (after tracking)', VRRP, snap, (s, set) => {
      for (const i of s.vrrp) set({ iname: i.name, intf: i.interface, vrid: String(i.vrid) }, i.priority);
    });
    gauge(r, 'ipvs_ts_vrrp_configured_priority', 'Configured VRRP priority', VRRP, snap, (s, set) => {
      for (const i of s.vrrp) set({ iname: i.name, intf: i.interface, vrid: String(i.vrid) }, i.configuredPriority);
    });
    for (const [name, key, help] of VRRP_COUNTERS) {
      counterFrom(r, name, help, VRRP, snap, (s, set) => {
        for (const i of s.vrrp) if (i.stats) set({ iname: i.name, intf: i.interface, vrid: String(i.vrid) }, i.stats[key]);
      });
    }

    // Per virtual server and checker type, not per real server: 13 buckets × 100,000 real servers would be 1.4 M
    // series. Per real server there are ipvs_ts_real_server_up and the transitions counter (docs/metrics.md).
    this.#checkResults = new Counter({ name: 'ipvs_ts_check_results_total', help: 'Check attempts by result (ok or the failure code)', labelNames: ['virtual_server', 'checker', 'result'], registers: r });
    this.#checkDuration = new Histogram({
      name: 'ipvs_ts_check_duration_seconds', help: 'Duration of check attempts', labelNames: ['virtual_server', 'checker'], registers: r,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.#checkTransitions = new Counter({ name: 'ipvs_ts_check_transitions_total', help: 'Real server health changes', labelNames: [...RS, 'to'], registers: r });
    this.#applies = new Counter({ name: 'ipvs_ts_reconcile_applies_total', help: 'Reconciler runs that changed the IPVS table', labelNames: ['reason'], registers: r });
    this.#ops = new Counter({ name: 'ipvs_ts_reconcile_operations_total', help: 'IPVS operations sent by the reconciler', labelNames: ['result'], registers: r });
    this.#verdictToKernel = new Histogram({
      name: 'ipvs_ts_verdict_to_kernel_seconds', help: 'From a checker verdict to the IPVS change applied', registers: r,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    });
    this.#drift = new Counter({ name: 'ipvs_ts_drift_repairs_total', help: 'External changes repaired', labelNames: ['what'], registers: r });
    this.#errors = new Counter({ name: 'ipvs_ts_netlink_errors_total', help: 'Failed kernel requests (IPVS, addresses, sync daemon)', labelNames: ['where'], registers: r });
    this.#reloads = new Counter({ name: 'ipvs_ts_reloads_total', help: 'Reloads by result', labelNames: ['result'], registers: r });
    this.#transitions = new Counter({ name: 'ipvs_ts_vrrp_transitions_total', help: 'VRRP state transitions', labelNames: ['iname', 'from', 'to'], registers: r });
    this.#vrrpFailures = new Counter({ name: 'ipvs_ts_vrrp_failures_total', help: 'Deaths of the VRRP worker thread after start-up', registers: r });
    this.#alerts = new Counter({ name: 'ipvs_ts_alerts_total', help: 'SMTP alerts by fate: sent, failed (the mail server) or dropped (rate limit, full queue, stop)', labelNames: ['result'], registers: r });
    // Present from the start, so an alert rule on failed or dropped has a series to watch.
    for (const result of ['sent', 'failed', 'dropped']) this.#alerts.inc({ result }, 0);
    this.#stalls = new Counter({ name: 'ipvs_ts_event_loop_stalls_total', help: 'Times the main event loop was blocked beyond the stall threshold (1 s)', registers: r });
    this.#lastStall = new Gauge({ name: 'ipvs_ts_event_loop_last_stall_seconds', help: 'How long the latest event-loop stall lasted (0: none yet)', registers: r });
    diagnostics.subscribe(attemptChannel.name, this.#onAttempt);
  }

  /** The director's events feed the event-driven counters. */
  readonly onEvent = (e: DirectorEvent): void => {
    switch (e.type) {
      case 'applied':
        this.#applies.inc({ reason: e.reasons.join(',') });
        this.#ops.inc({ result: 'applied' }, e.count - e.failed);
        if (e.failed) this.#ops.inc({ result: 'failed' }, e.failed);
        if (e.sinceVerdictMs !== undefined) this.#verdictToKernel.observe(e.sinceVerdictMs / 1000);
        break;
      case 'drift':
        this.#drift.inc({ what: e.what }, e.repaired.length);
        break;
      case 'error':
        this.#errors.inc({ where: e.where });
        break;
      case 'reloaded':
        this.#reloads.inc({ result: 'applied' });
        break;
      case 'reload-rejected':
        this.#reloads.inc({ result: 'rejected' });
        break;
      case 'vrrp':
        this.#transitions.inc({ iname: e.instance, from: e.from, to: e.to });
        break;
      case 'vrrp-failed':
        this.#vrrpFailures.inc();
        break;
      case 'alert':
        this.#alerts.inc({ result: e.result });
        break;
      case 'verdict': {
        const key = `${e.virtualServer}|${e.realServer}`;
        const before = this.#lastUp.get(key);
        this.#lastUp.set(key, e.up);
        if (before !== undefined && before !== e.up) this.#checkTransitions.inc({ virtual_server: e.virtualServer, real_server: e.realServer, to: e.up ? 'up' : 'down' });
        break;
      }
      default:
    }
  };

  /** A stall of the main event loop (src/daemon/watchdog.ts). */
  eventLoopStall(delayMs: number): void {
    this.#stalls.inc();
    this.#lastStall.set(delayMs / 1000);
  }

  /** The exposition text, built from one walk of the director's tables. */
  async render(): Promise<string> {
    return Buffer.concat(await this.renderChunks()).toString('utf8');
  }

  /** The same, as buffers to send one after the other (no copy of a large scrape into one string). */
  async renderChunks(): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for await (const part of this.stream()) out.push(...part);
    return out;
  }

  /**
   * The exposition text in parts, one per family of the large tables: a scrape of 100,000 destinations (88 MB)
   * then never sits in memory whole, and the event loop gets a turn between parts (`/metrics` waits on each).
   */
  async *stream(): AsyncGenerator<Buffer[]> {
    const snapshot = await this.#tablesOf().catch(() => undefined);
    this.#snapshot = snapshot;
    let text: string;
    try {
      text = await this.registry.metrics();
    } finally {
      this.#snapshot = undefined;
    }
    yield [Buffer.from(text)];
    if (snapshot) yield* this.#tables(snapshot);
  }

  /** The per-backend, per-service, per-real-server and per-virtual-server families, a family at a time. */
  *#tables(s: DaemonTables): Generator<Buffer[]> {
    const w = new ExpositionWriter();
    // The columns are kept for the next scrape (no 100,000-element arrays of garbage per scrape); a scrape that
    // overlaps another gets its own.
    const t = this.#spare ?? new Walk(this.#backendBlocks, this.#realServerBlocks);
    this.#spare = undefined;
    try {
      t.reset();
      s.walk(t);
      t.end();
      this.#backendBlocks.sweep();
      this.#realServerBlocks.sweep();
      yield* this.#families(s, w, t);
    } finally {
      t.reset();
      this.#spare = t;
    }
  }

  *#families(s: DaemonTables, w: ExpositionWriter, t: Walk): Generator<Buffer[]> {
    const perBackend = (column: Column) => (sample: BlockSample) => {
      const { backends } = t;
      const values = column.values;
      for (let b = 0, at = 0; b < backends.length; b++) {
        const block = backends[b]!;
        for (let i = 0; i < block.length; i++) sample(block, i, values[at++]!);
      }
    };
    for (const prefix of this.#backendPrefixes) {
      w.blockFamily(`${prefix}_connections_active`, 'gauge', 'Active connections per real server (IPVS)', perBackend(t.active));
      yield w.take();
      w.blockFamily(`${prefix}_connections_inactive`, 'gauge', 'Inactive connections per real server (IPVS)', perBackend(t.inactive));
      yield w.take();
      w.blockFamily(`${prefix}_weight`, 'gauge', 'Weight in the IPVS table per real server', perBackend(t.weight));
      yield w.take();
    }
    for (const [what, pick] of TRAFFIC) {
      if (what === 'connections' || this.#backendTraffic) {
        w.blockFamily(`ipvs_ts_backend_${what}_total`, 'counter', `IPVS ${what.replace('_', ' ')} per real server`, perBackend(t.stats[pick]));
        yield w.take();
      }
    }
    // One block per scrape for the per-service and per-virtual-server families: no string per line.
    const perService = perRow(new LabelBlock(t.services));
    for (const [what, pick] of TRAFFIC) {
      w.blockFamily(`ipvs_ts_service_${what}_total`, 'counter', `IPVS ${what.replace('_', ' ')} per virtual service`, perService(t.serviceStats[pick]));
    }
    yield w.take();
    const perRealServer = (column: Column) => (sample: BlockSample) => {
      const { realServers } = t;
      const values = column.values;
      for (let b = 0, at = 0; b < realServers.length; b++) {
        const block = realServers[b]!;
        for (let i = 0; i < block.length; i++) sample(block, i, values[at++]!);
      }
    };
    w.blockFamily('ipvs_ts_real_server_up', 'gauge', 'Health verdict per configured real server: 1 up, 0 down, -1 not checked yet', perRealServer(t.up));
    yield w.take();
    w.blockFamily('ipvs_ts_real_server_configured_weight', 'gauge', 'Configured weight per real server', perRealServer(t.configuredWeight));
    yield w.take();
    const perVirtualServer = perRow(new LabelBlock(t.vss));
    w.blockFamily('ipvs_ts_virtual_server_quorum_up', 'gauge', 'Quorum per virtual server: 1 up, 0 lost', perVirtualServer(t.quorumUp));
    w.blockFamily('ipvs_ts_virtual_server_suspended', 'gauge', 'Checkers suspended by ha_suspend (VIP not local)', perVirtualServer(t.suspended));
    if (s.countersAgeMs !== null) w.family('ipvs_ts_kernel_counters_age_seconds', 'gauge', 'Age of the IPVS counters and connection counts in this scrape (read in the background)', (sample) => sample('', s.countersAgeMs! / 1000));
    const bgp = s.bgp;
    if (bgp) {
      w.family('ipvs_ts_bgp_announced', 'gauge', 'VIP announced to the BGP neighbors: 1 yes, 0 withdrawn', (sample) => {
        for (const v of bgp.vips) sample(labelText([['prefix', v.prefix]]), v.announced ? 1 : 0);
      });
      w.family('ipvs_ts_bgp_vip_healthy', 'gauge', 'Last health observation of an announced VIP (programmed, quorum, daemon healthy)', (sample) => {
        for (const v of bgp.vips) sample(labelText([['prefix', v.prefix]]), v.healthy ? 1 : 0);
      });
      w.family('ipvs_ts_bgp_session_up', 'gauge', 'BGP session established with the neighbor', (sample) => {
        for (const n of bgp.sessions) sample(labelText([['neighbor', n.neighbor]]), n.up ? 1 : 0);
      });
      w.family('ipvs_ts_bgp_session_state', 'gauge', 'BGP session state (1 for the current state)', (sample) => {
        for (const n of bgp.sessions) sample(labelText([['neighbor', n.neighbor], ['state', n.state]]), 1);
      });
      w.family('ipvs_ts_bgp_daemon_up', 'gauge', 'The routing daemon ipvs-ts drives is running', (sample) => sample(labelText([['daemon', bgp.daemon.name]]), bgp.daemon.running ? 1 : 0));
      w.family('ipvs_ts_bgp_daemon_restarts_total', 'counter', 'Restarts of the routing daemon after it exited on its own', (sample) => sample(labelText([['daemon', bgp.daemon.name]]), bgp.daemon.restarts));
    }
    yield w.take();
  }

  close(): void {
    diagnostics.unsubscribe(attemptChannel.name, this.#onAttempt);
  }

  #attempt(m: AttemptMessage): void {
    const { virtualServer, checker } = m.check;
    let byType = this.#attemptSeries.get(virtualServer);
    if (!byType) this.#attemptSeries.set(virtualServer, (byType = new Map()));
    let series = byType.get(checker.type);
    if (!series) {
      const labels = { virtual_server: virtualServerLabel(virtualServer), checker: checker.type };
      byType.set(checker.type, (series = { labels, duration: this.#checkDuration.labels(labels), results: new Map() }));
    }
    const result = m.result.ok ? 'ok' : (m.result.code ?? 'failed');
    let counter = series.results.get(result);
    if (!counter) series.results.set(result, (counter = this.#checkResults.labels({ ...series.labels, result })));
    counter.inc();
    series.duration.observe(m.result.latencyMs / 1000);
  }
}

type Setter = (labels: Record<string, string>, value: number) => void;

function gauge(r: Registry[], name: string, help: string, labelNames: readonly string[], snap: () => DaemonTables | undefined, fill: (s: DaemonTables, set: Setter) => void): void {
  new Gauge({
    name, help, labelNames: [...labelNames], registers: r,
    collect() {
      this.reset();
      const s = snap();
      if (s) fill(s, (l, v) => this.set(l, v));
    },
  });
}

/** A counter whose value the daemon already keeps (kernel or engine totals): set at scrape time. */
function counterFrom(r: Registry[], name: string, help: string, labelNames: readonly string[], snap: () => DaemonTables | undefined, fill: (s: DaemonTables, set: Setter) => void): void {
  new Counter({
    name, help, labelNames: [...labelNames], registers: r,
    collect() {
      this.reset();
      const s = snap();
      if (s) fill(s, (l, v) => this.inc(l, v));
    },
  });
}

/** node_exporter's labels: fwmark services have proto "FWM", empty address, port 0 and the mark as %08X. */
function serviceLabels(svc: ServiceName): Record<string, string> {
  return svc.fwmark !== null
    ? { local_address: '', local_port: '0', proto: 'FWM', local_mark: svc.fwmark.toString(16).toUpperCase().padStart(8, '0') }
    : { local_address: svc.address, local_port: String(svc.port), proto: svc.protocol, local_mark: '' };
}

/** A service's label text and its destinations' label pieces, per (stable) ServiceName object: made once. */
interface ServiceText {
  readonly labels: string;
  readonly head: string;
  readonly tail: string;
}

const serviceTexts = new WeakMap<ServiceName, ServiceText>();

function serviceText(name: ServiceName): ServiceText {
  let t = serviceTexts.get(name);
  if (!t) {
    const l = serviceLabels(name);
    // node_exporter's label order, so the exposition text reads the same.
    t = {
      labels: labelText(Object.entries(l)),
      head: `{local_address="${l.local_address}",local_port="${l.local_port}",remote_address="`,
      tail: `",proto="${l.proto}",local_mark="${l.local_mark}"}`,
    };
    serviceTexts.set(name, t);
  }
  return t;
}

/** A family over one label block: row i of the block takes the column's i-th value. */
function perRow(block: LabelBlock): (column: Column) => (sample: BlockSample) => void {
  return (column) => (sample) => {
    const values = column.values;
    for (let i = 0; i < block.length; i++) sample(block, i, values[i]!);
  };
}

/** A column of numbers whose storage grows to the largest table seen and is then reused scrape after scrape. */
class Column {
  values = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.values.length) {
      const more = new Float64Array(this.length * 2);
      more.set(this.values);
      this.values = more;
    }
    this.values[this.length++] = v;
  }
}

const trafficColumns = (): Record<keyof Counters, Column> => ({ conns: new Column(), inPkts: new Column(), outPkts: new Column(), inBytes: new Column(), outBytes: new Column() });

function pushTraffic(to: Record<keyof Counters, Column>, c: Counters): void {
  to.conns.push(c.conns);
  to.inPkts.push(c.inPkts);
  to.outPkts.push(c.outPkts);
  to.inBytes.push(c.inBytes);
  to.outBytes.push(c.outBytes);
}

/**
 * One walk of the director's tables into what the families write: a label block per service (its kernel entries)
 * and per virtual server (its real servers), the values as columns in the blocks' order. No object per row.
 */
class Walk implements TableVisitor {
  readonly backends: LabelBlock[] = [];
  readonly active = new Column();
  readonly inactive = new Column();
  readonly weight = new Column();
  readonly stats = trafficColumns();
  /** Label text and counters of the services in the kernel. */
  readonly services: string[] = [];
  readonly serviceStats = trafficColumns();
  readonly realServers: LabelBlock[] = [];
  readonly up = new Column();
  readonly configuredWeight = new Column();
  /** Label text, quorum and suspension per virtual server. */
  readonly vss: string[] = [];
  readonly quorumUp = new Column();
  readonly suspended = new Column();
  readonly #backendBlocks: LabelBlocks;
  readonly #realServerBlocks: LabelBlocks;
  #service: { key: string; text: ServiceText } | undefined;
  readonly #dests: WeightedEndpoint[] = [];
  #vs = '';
  readonly #rss: WeightedEndpoint[] = [];
  /** Virtual server name → its label text, from scrape to scrape (cleared when it holds many names no longer seen). */
  readonly #vsTexts = new Map<string, string>();

  constructor(backendBlocks: LabelBlocks, realServerBlocks: LabelBlocks) {
    this.#backendBlocks = backendBlocks;
    this.#realServerBlocks = realServerBlocks;
  }

  /** Empties the walk for the next scrape, keeping the columns' storage (and dropping the label blocks it held). */
  reset(): void {
    for (const c of [this.active, this.inactive, this.weight, ...Object.values(this.stats), ...Object.values(this.serviceStats), this.up, this.configuredWeight, this.quorumUp, this.suspended]) c.length = 0;
    if (this.#vsTexts.size > 2 * this.vss.length + 64) this.#vsTexts.clear();
    this.backends.length = 0;
    this.services.length = 0;
    this.realServers.length = 0;
    this.vss.length = 0;
    this.#service = undefined;
    this.#dests.length = 0;
    this.#rss.length = 0;
  }

  virtualServer(name: string, quorumUp: boolean, suspended: boolean): void {
    this.#endService();
    this.#endVirtualServer();
    this.#vs = name;
    let text = this.#vsTexts.get(name);
    if (text === undefined) this.#vsTexts.set(name, (text = labelText([['virtual_server', name]])));
    this.vss.push(text);
    this.quorumUp.push(quorumUp ? 1 : 0);
    this.suspended.push(suspended ? 1 : 0);
  }

  service(name: ServiceName, inKernel: boolean, stats: Counters): void {
    this.#endService();
    if (!inKernel) return;
    const text = serviceText(name);
    this.#service = { key: name.key, text };
    this.services.push(text.labels);
    pushTraffic(this.serviceStats, stats);
  }

  destination(d: WeightedEndpoint, activeConns: number, inactiveConns: number, stats: Counters): void {
    this.#dests.push(d);
    this.active.push(activeConns);
    this.inactive.push(inactiveConns);
    this.weight.push(d.weight);
    pushTraffic(this.stats, stats);
  }

  realServer(rs: WeightedEndpoint, up: boolean | null): void {
    this.#endService();
    this.#rss.push(rs);
    this.up.push(up === null ? -1 : up ? 1 : 0);
    this.configuredWeight.push(rs.weight);
  }

  end(): void {
    this.#endService();
    this.#endVirtualServer();
  }

  #endService(): void {
    const svc = this.#service;
    this.#service = undefined;
    if (!svc || this.#dests.length === 0) return;
    const { head, tail } = svc.text;
    this.backends.push(this.#backendBlocks.block(svc.key, this.#dests, (d) => `${head}${d.address}",remote_port="${d.port}${tail}`));
    this.#dests.length = 0;
  }

  #endVirtualServer(): void {
    if (this.#rss.length === 0) return;
    const head = `{virtual_server="${escapeLabel(this.#vs)}",real_server="`;
    this.realServers.push(this.#realServerBlocks.block(this.#vs, this.#rss, (rs) => `${head}${hostPort(rs.address, rs.port)}"}`));
    this.#rss.length = 0;
  }
}
