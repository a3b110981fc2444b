// node-smpp's client (npm "smpp" 0.5.1) pushing SMS, the peer of our client in figure 1.
// Usage: node node_client.js PORT MESSAGES WARMUP WINDOW (NODE_PATH must reach smpp; bench/setup.sh).
// Binds as transceiver to 127.0.0.1:PORT (account bench/secret), keeps WINDOW submit_sm in flight (the
// usual way with node-smpp: a counter and the response callback; the library has no window of its own),
// asks for a receipt on each, answers every deliver_sm and correlates each receipt's
// receipted_message_id to the message it reports on (receipts that overtake their resp are parked).
// WARMUP messages first, then {"event":"timed"} and MESSAGES timed ones; the clock stops at the last
// correlated receipt. Prints one JSON result line, like bench/smpp_load.py.
'use strict';
const smpp = require('smpp');

const [port, total, warmup, windowSize] = process.argv.slice(2).map(Number);
const all = warmup + total;
const byRemote = new Map(); // message id -> our index
const parked = new Set(); // receipts whose resp has not come yet
let next = 0, inFlight = 0, answered = 0, correlated = 0, refused = 0;
let t0 = 0n, cpu0 = null, timed = false;

// noDelay: node's sockets keep Nagle's algorithm on by default and node-smpp writes one PDU per write,
// so a submit_sm written after a deliver_sm_resp (which the SMSC never answers) waits for the SMSC's
// delayed ACK, up to 40 ms: about 1,600 msg/s at 12% CPU. A user who cares about throughput turns it
// off, as asyncio does for every TCP connection; so does this peer (8,600 msg/s in the same minute).
const session = smpp.connect({ host: '127.0.0.1', port, noDelay: true }, () => {
  session.bind_transceiver({ system_id: 'bench', password: 'secret' }, (pdu) => {
    if (pdu.command_status !== 0) fail(`bind refused: ${pdu.command_status}`);
    pump();
  });
});
session.on('error', (e) => fail(String(e)));

function pump() {
  while (inFlight < windowSize && next < all && (timed || next < warmup)) {
    const index = next++;
    inFlight += 1;
    session.submit_sm({
      source_addr_ton: 1, source_addr_npi: 1, source_addr: '12345',
      dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: String(8613800000000 + index),
      registered_delivery: 1, short_message: 'hi',
    }, (resp) => onResp(resp, index));
  }
}

function onResp(resp, index) {
  inFlight -= 1;
  answered += 1;
  if (resp.command_status !== 0) refused += 1;
  else if (parked.delete(resp.message_id)) correlated += 1;
  else byRemote.set(resp.message_id, index);
  check();
  pump();
}

session.on('deliver_sm', (pdu) => {
  session.send(pdu.response());
  if (!(pdu.esm_class & smpp.ESM_CLASS.MC_DELIVERY_RECEIPT)) return;
  const id = pdu.receipted_message_id;
  if (byRemote.delete(id)) correlated += 1;
  else parked.add(id);
  check();
});

function check() {
  const done = answered - refused;
  if (!timed && answered === warmup && correlated === warmup - refused) {
    timed = true;
    process.stdout.write(JSON.stringify({ event: 'timed' }) + '\n');
    answered = correlated = refused = 0;
    t0 = process.hrtime.bigint();
    cpu0 = process.cpuUsage();
    pump();
  } else if (timed && answered === total && correlated === done) {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const result = {
      messages: total, sent: done, refused, receipts: correlated, uncorrelated: parked.size,
      seconds, cpu: (cpu.user + cpu.system) / 1e6, rss_kib: Math.round(process.memoryUsage().rss / 1024),
    };
    process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
  }
}

function fail(message) {
  process.stderr.write(`node_client: ${message}\n`);
  process.exit(1);
}
